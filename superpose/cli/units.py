"""CLI: unit explanations beyond the output side: top activating words, input-side topics, the probe
and the polysemanticity score of tokens."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from superpose.cli.args import Command, option


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


COMMANDS: list[Command] = [Command(("top-words",), TopWordsArgs, run_top_words)]
