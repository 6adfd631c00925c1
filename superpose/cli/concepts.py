"""CLI: concepts learned from a layer's MLP activations (`superpose concepts fit`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from superpose.cli.args import Command, option
from superpose.config import ConceptConfig
from superpose.models.device import Placement


@dataclass(kw_only=True)
class ConceptsFitArgs:
    """Learn concept directions from one layer's MLP activations and write a concept file.

    Activations are the input of the MLP down projection over --corpus-source text, cut into
    sequences; a seeded share of the sequences is held out, and the reconstruction error (fraction of
    variance unexplained) and sparsity of the concept activations are measured there and printed.
    The file (docs/concepts.md) is read by every command that takes --units: a concept's output
    direction is W_down @ c at the block's MLP output, its activation the method's code.
    """

    model: str = option("embedded model, model folder or hub id", "smollm2-135m", metavar="NAME")
    layer: int = option("block whose MLP activations are decomposed", metavar="L")
    out: str = option("concept file to write (.npz)", metavar="FILE")
    corpus_source: list[str] = option("corpus source name or path; repeat for several",
                                      default_factory=lambda: ["default"], metavar="SRC")
    concepts: ConceptConfig = field(default_factory=lambda: ConceptConfig(method="pca"))
    name: str | None = option("name of the set in run folders (default: METHOD-lL-N)", None)
    batch_size: int = option("sequences per forward pass", 16)
    threads: int | None = option("torch CPU threads", None)
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")
    placement: Placement = field(default_factory=Placement)
    progress: bool = option("show a progress bar", True)


def run_concepts_fit(args: ConceptsFitArgs) -> int:
    from tqdm import tqdm

    from superpose.cli.runtime import set_torch_threads
    from superpose.concepts.fit import fit_to_file
    from superpose.models import load_model

    set_torch_threads(args.threads)
    lm = load_model(args.model, cache_dir=args.cache_dir, device=args.placement)
    cfg = args.concepts
    with tqdm(total=cfg.max_tokens // cfg.seq_len, unit="seq", disable=not args.progress, file=sys.stderr,
              desc=f"activations layer {args.layer}") as bar:
        path, meta = fit_to_file(lm, args.layer, cfg, args.out, sources=args.corpus_source,
                                 batch_size=args.batch_size, name=args.name, progress=bar.update)
    held, train = meta["metrics"]["held_out"], meta["metrics"]["train"]
    print(f"concepts: {path} ({cfg.method}, {cfg.n} concepts, layer {args.layer} of {meta['model']})")
    print(f"  {'':<9} {'tokens':>8} {'FVU':>7} {'zero':>6} {'<1%max':>7} {'L0':>6}")
    for label, m in (("train", train), ("held-out", held)):
        print(f"  {label:<9} {m['tokens']:>8} {m['fvu']:>7.4f} {m['share_zero']:>6.3f} "
              f"{m['share_inactive']:>7.3f} {m['l0']:>6.2f}")
    return 0


COMMANDS: list[Command] = [Command(("concepts", "fit"), ConceptsFitArgs, run_concepts_fit)]
