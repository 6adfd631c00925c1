"""CLI: mine topics of every unit and polarity, the random baseline, and their summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from superpose.cli.args import Command, option
from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.mining.runfile import read_run_file
from superpose.models.device import Placement


@dataclass
class MineArgs:
    """Mine the superposed topics of a model's neurons (Lim & Lauw, EMNLP 2023).

    For each unit and polarity: the top (pos) or bottom (neg) --tau tokens of its projection,
    mapped to corpus words (the pool); NPMI between the pool's words; disjoint word sets
    shortlisted by the star heuristic (--theta, --kappa); in each, the --k words of highest mean
    NPMI by an exact integer program. --layout paper writes {out}/{model}/{mode}/{layer}_{neuron}
    _{polarity}_pool.txt, _isets.csv and _topics.csv (empty: nothing found), then topics.csv.gz
    and pools.csv.gz for the whole run; --layout shards writes per layer shards/layer_{LL}_topics
    and _pools tables (Parquet and .csv.gz) with the same content; auto takes shards for runs of
    more than 1000 units (a whole model in the paper's layout is millions of small files). Both
    write run.json. Every option is checked before anything is loaded or written. A stopped run,
    started again with the same command, skips finished units (paper) or layers (shards).
    """

    corpus: str = option("corpus folder (`superpose corpus build`)", metavar="DIR")
    out: str = option("output folder", metavar="DIR")
    model: str = option("embedded model (smollm2-135m, gemma3-270m), model folder or hub id", "smollm2-135m",
                        metavar="NAME")
    layers: str | None = option("layers, e.g. 0-29 or 3,15,27 (default: all)", None, metavar="RANGE")
    neurons: str | None = option("units of each layer, same syntax (default: all)", None, metavar="RANGE")
    layout: Literal["auto", "paper", "shards"] = option(
        "output layout: paper (three files per unit and polarity), shards (two tables per layer) or auto "
        "(the layout of the run already in --out, else shards above 1000 units)", "auto")
    projection: ProjectionConfig = field(default_factory=ProjectionConfig)
    mining: MiningConfig = field(default_factory=MiningConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    placement: Placement = field(default_factory=Placement)
    threads: int | None = option("torch threads for the projection (default: torch's choice); the threads "
                                 "--workers leaves run it beside the mining, else it runs first on all of them",
                                 None, metavar="N")
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")
    overwrite: bool = option("replace a run with different parameters in --out", False)
    progress: bool = option("show progress bars", True)


def run_mine(args: MineArgs) -> int:
    from superpose.cli.runtime import set_torch_threads
    from superpose.pipeline import mine

    set_torch_threads(args.threads)
    folder = mine(args.model, args.corpus, args.out, projection=args.projection, mining=args.mining,
                  execution=args.execution, layers=args.layers, neurons=args.neurons, cache_dir=args.cache_dir,
                  overwrite=args.overwrite, progress=args.progress, placement=args.placement,
                  layout=args.layout)
    run = read_run_file(folder)
    skipped = run["totals"]["pools"] - run["mined_now"]
    if skipped:
        print(f"skipped {skipped} of {run['totals']['pools']} unit-polarities already mined in {folder}")
    if (folder / "shards").is_dir():
        print(f"topics: {folder / 'shards'}/layer_LL_topics.parquet (and .csv.gz; pools: layer_LL_pools.*)")
    else:
        print(f"topics: {folder / 'topics.csv.gz'} (per unit: {folder}/LAYER_NEURON_POLARITY_topics.csv)")
    return 0


@dataclass
class BaselineArgs:
    """Mine random pools of the same sizes as a finished run's pools (seeded), for comparison.

    Results go to RUN/random/ in the same layout; then `superpose summary --run RUN` compares them.
    """

    run: str = option("a finished run folder, {out}/{model}/{mode}", metavar="DIR")
    seed: int = option("random seed", 0)
    neurons: str | None = option("only these units of each layer, e.g. 0-1535/8 for every eighth (default: all)",
                                 None, metavar="RANGE")
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")
    progress: bool = option("show progress bars", True)


def run_baseline(args: BaselineArgs) -> int:
    from superpose.mining.baseline import baseline

    out = baseline(args.run, seed=args.seed, neurons=args.neurons, execution=args.execution,
                   cache_dir=args.cache_dir, progress=args.progress)
    print(f"random baseline: {out}")
    return 0


@dataclass
class SummaryArgs:
    """Compare mined and random topics per layer and polarity.

    Share of pools with a topic, topics per pool, mean and quantiles of topic NPMI, for the run
    and its random baseline. Writes RUN/summary.csv and RUN/summary.md.
    """

    run: str = option("a finished run folder, {out}/{model}/{mode}", metavar="DIR")


def run_summary(args: SummaryArgs) -> int:
    from superpose.mining.summary import write_summary

    path, markdown = write_summary(args.run)
    print(markdown)
    print(f"written: {path}")
    return 0


COMMANDS = [
    Command(("mine",), MineArgs, run_mine),
    Command(("baseline",), BaselineArgs, run_baseline),
    Command(("summary",), SummaryArgs, run_summary),
]
