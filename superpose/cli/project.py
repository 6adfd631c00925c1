"""CLI: project neurons onto the vocabulary and save their top/bottom tokens and word pools."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from superpose.cli.args import Command, option
from superpose.config import ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.models.device import Placement


@dataclass
class ProjectArgs:
    """Project every neuron of chosen layers onto the vocabulary (Hi-C, Hi-I, Lo-C, Lo-I).

    Keeps each unit's top and bottom --tau tokens and logits in one file per layer,
    {out}/{model}/{mode}/layer_{LL}.npz (format: docs/formats/projection.md). With --corpus,
    the tokens are also mapped to corpus words: the positive and negative word pools.
    Units are MLP neurons in hi-* modes and residual-stream dimensions in lo-* modes.
    Layer files that already exist with the same parameters are kept, so a stopped run resumes.
    """

    out: str = option("output folder", metavar="DIR")
    model: str = option("embedded model (smollm2-135m, gemma3-270m), model folder or hub id",
                        "smollm2-135m", metavar="NAME")
    layers: str | None = option("layers, e.g. 0-29 or 3,15,27 (default: all)", None,
                                metavar="RANGE")
    neurons: str | None = option("units of each layer, same syntax (default: all)", None,
                                 metavar="RANGE")
    projection: ProjectionConfig = field(default_factory=ProjectionConfig)
    corpus: str | None = option("corpus folder: also store word pools", None, metavar="DIR")
    batch_size: int | None = option("units projected together (default: as many as keep one "
                                    "batch of logits near 128 MB)", None, metavar="N")
    threads: int | None = option("torch threads (default: torch's choice)", None, metavar="N")
    placement: Placement = field(default_factory=Placement)
    cache_dir: str | None = option("cache of converted embedded models (default: "
                                   "$SUPERPOSE_CACHE or ~/.cache/superpose)", None, metavar="DIR")
    overwrite: bool = option("recompute layer files that already exist", False)
    progress: bool = option("show a progress bar", True)


def run_project(args: ProjectArgs) -> int:
    from tqdm import tqdm

    from superpose.cli.runtime import set_torch_threads
    from superpose.core.fileio import check_writable
    from superpose.core.ranges import parse_range
    from superpose.models import load_model
    from superpose.projection.project import check_source, check_tau, n_units
    from superpose.projection.run import CorpusWords, project_to_files
    from superpose.units import load_sae

    mode = args.projection.mode
    if args.batch_size is not None and args.batch_size < 1:
        raise SuperposeError(f"--batch-size must be at least 1, got {args.batch_size}")
    set_torch_threads(args.threads)
    check_writable(args.out)
    sae = load_sae(args.projection.sae, hook=args.projection.sae_hook) if args.projection.sae else None
    corpus = CorpusWords.load(args.corpus) if args.corpus else None
    lm = load_model(args.model, cache_dir=args.cache_dir, device=args.placement)
    if sae is None:
        layers = parse_range(args.layers, lm.n_layers, "layer")
        units = parse_range(args.neurons, n_units(lm, mode), args.projection.unit_kind)
    else:
        layers = parse_range(args.layers, lm.n_layers, "layer") if args.layers else [sae.layer]
        for layer in layers:
            check_source(lm, mode, layer, sae)
        units = parse_range(args.neurons, sae.n_units(), sae.unit_name)
    check_tau(lm, args.projection.tau)
    with tqdm(total=len(layers) * len(units), unit="unit", disable=not args.progress,
              desc=f"{lm.name} {mode}", file=sys.stderr) as bar:
        paths = project_to_files(lm, mode, layers, args.out, neurons=units, tau=args.projection.tau,
                                 corpus=corpus, batch_size=args.batch_size,
                                 overwrite=args.overwrite, on_units=bar.update, source=sae,
                                 pooling=args.projection.pooling)
    print(f"{len(paths)} layer file(s) of {len(units)} units in "
          f"{paths[0].parent if paths else args.out}")
    return 0


COMMANDS: list[Command] = [Command(("project",), ProjectArgs, run_project)]
