"""CLI: the main job on the embedded defaults, for a first run on a fresh machine."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from superpose.cli.args import Command, option

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

    Builds the default reference corpus (Wikipedia summaries, gensim's Wikipedia excerpt and
    WordNet glosses; stopwords and words under three letters removed) into corpus/build/default,
    prints its statistics and the NPMI coherence of a few example word sets.
    """

    corpus_out: str = option("where to build the default corpus", "corpus/build/default", metavar="DIR")


def run_demo(args: DemoArgs) -> int:
    from superpose.cli.corpus import format_info
    from superpose.corpus.build import CorpusParams, build_corpus
    from superpose.corpus.npmi import coherence

    params = CorpusParams(window=10, windowing="filtered", min_count=10, stopwords=True, min_length=3)
    counts = build_corpus(["default"], Path(args.corpus_out), params, progress=True)
    print(format_info(counts.meta, args.corpus_out))
    print("\nNPMI coherence of example word sets:")
    for name, words in EXAMPLE_SETS.items():
        result = coherence(counts, words.split())
        score = "undefined" if math.isnan(result.npmi) else f"{result.npmi:+.3f}"
        never = len(result.never_cooccur)
        unknown = f"; unknown: {' '.join(result.unknown)}" if result.unknown else ""
        print(f"  {name:<13} {score:>9}  ({result.n_pairs} pairs, {never} never co-occur{unknown})  {words}")
    return 0


COMMANDS = [Command(("demo",), DemoArgs, run_demo)]
