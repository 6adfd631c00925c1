"""CLI: unit explanations beyond the output side: top activating words, input-side topics, the probe
and the polysemanticity score of tokens."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from superpose.cli.args import Command, option
from superpose.config import ExecutionConfig, MiningConfig


@dataclass
class TopWordsArgs:
    """Top activating words of every neuron (MaxAct at word granularity), from its activation records.

    A word occurrence is a run of letters in a record's text (possibly several tokens); its activation
    is the largest over its tokens. Per neuron and word, over the neuron's records: largest, mean and
    smallest activation and the number of occurrences; words rank by the largest. Writes
    RECORDS/top_words_{LL}.csv.gz and RECORDS/top_words.json (docs/formats/llm.md).
    """

    records: str = option("records folder written by `superpose activations` (DIR/MODEL)", metavar="DIR")
    layers: str | None = option("layers, e.g. 3,15 (default: every layer with records)", None, metavar="LIST")
    top: int = option("words kept per neuron", 100)
    min_count: int = option("fewest occurrences of a kept word", 1)
    show: int | None = option("also print the top words of this neuron (of each layer)", None, metavar="N")
    progress: bool = option("show a progress bar", True)


def run_top_words(args: TopWordsArgs) -> int:
    from tqdm import tqdm

    from superpose.core.ranges import parse_range
    from superpose.llm.formats import RecordStore
    from superpose.llm.top_words import read_top_words, write_top_words

    store = RecordStore(args.records)
    layers = store.layers if args.layers is None else parse_range(args.layers, 10_000, "layer")
    total = sum(store.layer(layer).mean.shape[0] for layer in layers if layer in store.layers)
    with tqdm(total=total, unit="neuron", disable=not args.progress, file=sys.stderr, desc="top words") as bar:
        paths = write_top_words(args.records, layers, top=args.top, min_count=args.min_count, on_neuron=bar.update)
    if args.show is not None:
        for layer in layers:
            words = read_top_words(args.records, layer).get(args.show, [])
            print(f"layer {layer} neuron {args.show}: " + ", ".join(f"{w.word} ({w.max_act:.2f}, n={w.count})"
                                                                  for w in words))
    print(f"top words: {', '.join(str(p) for p in paths)}")
    return 0


@dataclass
class InputTopicsArgs:
    """Input-side topics: mine each neuron's top activating words like an output-side pool.

    The pos pool is the neuron's top activating words (largest activation over its records), the neg
    pool the words of its most negative activations, both kept to the corpus vocabulary and cut at
    --pool-size words; then the same NPMI graph, star heuristic and exact k-clique as `superpose mine`.
    Writes OUT/MODEL/input/ in the paper's layout (mode "input"), so `summary` and `report` read it.
    """

    records: str = option("records folder written by `superpose activations` (DIR/MODEL)", metavar="DIR")
    corpus: str = option("corpus folder (`superpose corpus build`)", metavar="DIR")
    out: str = option("output folder", metavar="DIR")
    layers: str | None = option("layers (default: every layer with records)", None, metavar="RANGE")
    neurons: str | None = option("neurons of each layer (default: all)", None, metavar="RANGE")
    pool_size: int = option("words per input-side pool (output-side pools of tau 900 hold about 250)", 250)
    min_count: int = option("fewest occurrences of a pooled word in the records", 1)
    mining: MiningConfig = field(default_factory=MiningConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    overwrite: bool = option("replace a run with different parameters in --out", False)
    progress: bool = option("show progress bars", True)


def run_input_topics(args: InputTopicsArgs) -> int:
    from superpose.mining.input_side import mine_input_side

    folder = mine_input_side(args.records, args.corpus, args.out, layers=args.layers, neurons=args.neurons,
                             pool_size=args.pool_size, min_count=args.min_count, mining=args.mining,
                             execution=args.execution, overwrite=args.overwrite, progress=args.progress)
    print(f"input-side topics: {folder / 'topics.csv.gz'}")
    return 0


COMMANDS: list[Command] = [
    Command(("top-words",), TopWordsArgs, run_top_words),
    Command(("input-topics",), InputTopicsArgs, run_input_topics),
]
