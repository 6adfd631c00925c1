"""CLI: the main job on the embedded defaults, for a first run on a fresh machine."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from superpose.cli.args import Command, option
from superpose.config import ExecutionConfig

EXAMPLE_SETS = {
    "weekdays": "monday tuesday wednesday thursday friday saturday sunday",
    "nordic": "copenhagen swedish oslo norwegian helsinki stockholm danish sweden",
    "vegetables": "corn potato potatoes tomato vegetables onions salt fish",
    "solar system": "earth planet planets solar sun visible uranus orbit",
    "random": "wednesday potato oslo orbit lawyer violin",
}


@dataclass
class DemoArgs:
    """Run the main job on the embedded defaults.

    1. Builds the default reference corpus (Wikipedia summaries, gensim's Wikipedia excerpt and
       WordNet glosses; stopwords and words under three letters removed) and prints its
       statistics and the NPMI of a few example word sets.
    2. Mines the Hi-C topics of a slice of the default model (SmolLM2-135M): --neurons of
       --layers, both polarities, the paper's parameters.
    3. Mines random pools of the same sizes and prints the mined-versus-random summary.
    4. Writes the HTML report (opens from disk) and prints its path.
    """

    corpus_out: str = option("where to build the default corpus", "corpus/build/default", metavar="DIR")
    out: str = option("where to write the topics", "results/demo", metavar="DIR")
    layers: str = option("layers to mine", "3,15,27", metavar="RANGE")
    neurons: str = option("neurons of each layer to mine", "0-99", metavar="RANGE")
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)


def run_demo(args: DemoArgs) -> int:
    from superpose.cli.corpus import format_info
    from superpose.corpus.build import CorpusParams, build_corpus
    from superpose.corpus.npmi import coherence
    from superpose.mining.baseline import baseline
    from superpose.mining.store import read_bulk
    from superpose.mining.summary import write_summary
    from superpose.pipeline import mine
    from superpose.report import build_report

    # the defaults of `superpose corpus build --source default`: one default folder, one corpus
    counts = build_corpus(["default"], Path(args.corpus_out), CorpusParams(), progress=True,
                          workers=args.execution.workers)
    print(format_info(counts.meta, args.corpus_out))
    print("\nNPMI coherence of example word sets:")
    for name, words in EXAMPLE_SETS.items():
        result = coherence(counts, words.split())
        score = "undefined" if math.isnan(result.npmi) else f"{result.npmi:+.3f}"
        never = len(result.never_cooccur)
        unknown = f"; unknown: {' '.join(result.unknown)}" if result.unknown else ""
        print(f"  {name:<13} {score:>9}  ({result.n_pairs} pairs, {never} never co-occur{unknown})  {words}")
    print(f"\nMining Hi-C topics of layers {args.layers}, neurons {args.neurons} of smollm2-135m ...")
    folder = mine("smollm2-135m", args.corpus_out, args.out, layers=args.layers,
                  neurons=args.neurons, execution=args.execution)
    print("Mining random pools of the same sizes ...")
    baseline(str(folder), execution=args.execution)
    _, markdown = write_summary(folder)
    print("\n" + markdown)
    best = sorted(read_bulk(folder / "topics.csv.gz"), key=lambda t: -float(t["score"]))[:8]
    print("Best topics:")
    for t in best:
        where = f"layer {t['layer']:>2} neuron {t['neuron']:>4} {t['polarity']}"
        print(f"  {where}  {float(t['score']):+.3f}  {t['words']}")
    print(f"Topics (all units): {folder / 'topics.csv.gz'}")
    print(f"Per unit and polarity: {folder}/LAYER_NEURON_POLARITY_topics.csv (and _isets.csv, _pool.txt)")
    print(f"Mined versus random: {folder / 'summary.md'}")
    report = build_report(folder, Path(args.out) / "report")
    print(f"Report: {report / 'index.html'}")
    return 0


COMMANDS = [Command(("demo",), DemoArgs, run_demo)]
