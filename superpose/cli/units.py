"""CLI: unit explanations beyond the output side: top activating words, input-side topics, the probe
and the polysemanticity score of tokens."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from superpose.cli.args import Command, option, positional
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
    units: str | None = option("the units the records are of (an SAE folder or a concept file): checked against "
                               "the records' metadata", None, metavar="PATH")
    progress: bool = option("show a progress bar", True)


def run_top_words(args: TopWordsArgs) -> int:
    from tqdm import tqdm

    from superpose.activations.formats import RecordStore
    from superpose.activations.top_words import read_top_words, write_top_words
    from superpose.cli.checks import check_units_of
    from superpose.core.ranges import parse_range

    check_units_of(args.units, records=args.records)
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
    from superpose.input_side import mine_input_side

    folder = mine_input_side(args.records, args.corpus, args.out, layers=args.layers, neurons=args.neurons,
                             pool_size=args.pool_size, min_count=args.min_count, mining=args.mining,
                             execution=args.execution, overwrite=args.overwrite, progress=args.progress)
    print(f"input-side topics: {folder / 'topics.csv.gz'}")
    return 0


@dataclass(kw_only=True)
class ProbeArgs:
    """A unit's activations on given texts, token by token.

    Units are MLP neurons of --layer (activation: the input of the down/out projection) or, with
    --sae, latents of an SAE or transcoder (its encoder on the hook's input; the layer is the hook's) or
    concepts of a concept file (their encoder on the layer's neuron activations).
    Prints one line per token, or JSON with --json.
    """

    texts: list[str] = positional("texts to read (each on its own)", metavar="TEXT")
    model: str = option("embedded model, model folder or hub id", "smollm2-135m", metavar="NAME")
    layer: int | None = option("block of the units (default with --sae: the hook's)", None, metavar="L")
    units: str = option("units, e.g. 5 or 0-9,17", metavar="RANGE")
    sae: str | None = option("probe latents of this SAE or transcoder, or the concepts of a concept file "
                             "(--units names the unit indices here)", None, metavar="PATH")
    sae_hook: str | None = option("override the SAE's hook", None, metavar="NAME")
    json: bool = option("print JSON", False)
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")


def run_probe(args: ProbeArgs) -> int:
    import json

    from superpose.activations.probe import probe
    from superpose.core.errors import SuperposeError
    from superpose.core.ranges import parse_range
    from superpose.models import load_model
    from superpose.units import load_sae

    sae = load_sae(args.sae, hook=args.sae_hook) if args.sae else None
    if args.sae_hook and not args.sae:
        raise SuperposeError("--sae-hook names the hook of an SAE: give the SAE with --sae")
    if sae is None and args.layer is None:
        raise SuperposeError("give --layer (the block of the neurons), or --sae")
    lm = load_model(args.model, cache_dir=args.cache_dir)
    layer = sae.layer if sae is not None and args.layer is None else int(args.layer)
    width = sae.d_sae if sae is not None else lm.n_neurons
    units = parse_range(args.units, width, sae.unit_name if sae is not None else "neuron")
    results = probe(lm, args.texts, layer, units, sae=sae)
    if args.json:
        print(json.dumps([{"text": r.text, "tokens": r.tokens, "units": r.units,
                           "activations": r.activations.tolist()} for r in results]))
        return 0
    for r in results:
        print(f"# {r.text!r} (layer {layer}, units {', '.join(map(str, r.units))})")
        for token, row in zip(r.tokens, r.activations, strict=True):
            print(f"{token!r}\t" + "\t".join(f"{v:.4f}" for v in row))
    return 0


@dataclass
class DispersionArgs:
    """Polysemanticity score of tokens: how dispersed their contexts are in a layer's residual space.

    Reads the residual stream entering each --layers block over the first --max-tokens of a records
    folder's sequences; for every occurrence of a token (at most --max-per-token per token), its --k
    nearest neighbours by cosine distance among all occurrences; per token, the share of neighbours
    that are other tokens and their mean distance. Writes OUT/dispersion_{LL}.csv and dispersion.json.
    """

    records: str = option("records folder written by `superpose activations` (its sequences are read)",
                          metavar="DIR")
    layers: str = option("layers, e.g. 3,15", metavar="RANGE")
    out: str = option("output folder", metavar="DIR")
    model: str = option("the records' model", "smollm2-135m", metavar="NAME")
    max_tokens: int = option("tokens of the records' sequences to read", 32768)
    k: int = option("nearest neighbours per occurrence", 10)
    max_per_token: int = option("occurrences kept per token (seeded sample)", 40)
    min_occurrences: int = option("fewest occurrences of a scored token", 3)
    seed: int = option("seed of the occurrence sample", 0)
    threads: int | None = option("torch threads (default: torch's choice)", None, metavar="N")
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")
    progress: bool = option("show a progress bar", True)


def run_dispersion(args: DispersionArgs) -> int:
    from tqdm import tqdm

    from superpose.activations.dispersion import write_dispersion
    from superpose.activations.formats import RecordStore
    from superpose.cli.runtime import set_torch_threads
    from superpose.core.ranges import parse_range
    from superpose.models import load_model

    store = RecordStore(args.records)
    set_torch_threads(args.threads)
    lm = load_model(args.model, cache_dir=args.cache_dir)
    layers = parse_range(args.layers, lm.n_layers, "layer")
    n_seq = min(len(store.sequences), max(1, args.max_tokens // store.sequences.shape[1]))
    with tqdm(total=n_seq, unit="seq", disable=not args.progress, file=sys.stderr, desc="residuals") as bar:
        paths = write_dispersion(lm, args.records, layers, args.out, max_tokens=args.max_tokens, k=args.k,
                                 max_per_token=args.max_per_token, min_occurrences=args.min_occurrences,
                                 seed=args.seed, progress=bar.update)
    print(f"dispersion: {', '.join(str(p) for p in paths)}")
    return 0


COMMANDS: list[Command] = [
    Command(("dispersion",), DispersionArgs, run_dispersion),
    Command(("probe",), ProbeArgs, run_probe),
    Command(("top-words",), TopWordsArgs, run_top_words),
    Command(("input-topics",), InputTopicsArgs, run_input_topics),
]
