"""CLI: mine topics of every unit and polarity, the random baseline, and their summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from superpose.cli.args import Command, option


@dataclass
class MineArgs:
    """Mine the superposed topics of a model's neurons (Lim & Lauw, EMNLP 2023).

    For each unit and polarity: the top (pos) or bottom (neg) --tau tokens of its projection,
    mapped to corpus words (the pool); NPMI between the pool's words; disjoint word sets
    shortlisted by the star heuristic (--theta, --kappa); in each, the --k words of highest mean
    NPMI by an exact integer program. Writes {out}/{model}/{mode}/{layer}_{neuron}_{polarity}
    _pool.txt, _isets.csv and _topics.csv (empty: nothing found), topics.csv.gz and pools.csv.gz
    for the whole run, and run.json. A stopped run, started again with the same command, skips
    finished units.
    """

    corpus: str = option("corpus folder (`superpose corpus build`)", metavar="DIR")
    out: str = option("output folder", metavar="DIR")
    model: str = option("embedded model (smollm2-135m, gemma3-270m), model folder or hub id", "smollm2-135m",
                        metavar="NAME")
    mode: Literal["hi-c", "hi-i", "lo-c", "lo-i"] = option(
        "hi-c: neuron through the later blocks; hi-i: neuron straight to the unembedding; lo-c: residual "
        "dimension through this and later blocks; lo-i: through this block only", "hi-c")
    layers: str | None = option("layers, e.g. 0-29 or 3,15,27 (default: all)", None, metavar="RANGE")
    neurons: str | None = option("units of each layer, same syntax (default: all)", None, metavar="RANGE")
    tau: int = option("tokens at each end of a unit's logits that form its pools", 900)
    theta_l: float = option("star heuristic: lowest NPMI of a kept edge", 0.1)
    theta_u: float = option("star heuristic: highest NPMI of a kept edge", 1.0)
    kappa_l: int = option("star heuristic: fewest words of a shortlisted set (and kept neighbours)", 10)
    kappa_u: int = option("star heuristic: most words of a shortlisted set", 24)
    k: int = option("words per topic", 10)
    solver: Literal["bnb", "highs", "scip", "cvxpy-scip"] = option(
        "exact k-clique back-end: bnb (dedicated branch and bound), highs (scipy), scip (pyscipopt) or "
        "cvxpy-scip (CVXPY with SCIP, as the paper)", "bnb")
    formulation: Literal["strong", "paper", "triangle"] = option(
        "integer program for the MILP back-ends: strong (one equation per word), the paper's, or strong "
        "with triangle cuts", "strong")
    time_limit: float = option("seconds per k-clique instance; a hit is recorded with status and gap", 120.0)
    workers: int = option("worker processes for mining", 2, metavar="N")
    threads: int | None = option("torch threads for the projection", None, metavar="N")
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")
    overwrite: bool = option("replace a run with different parameters in --out", False)
    progress: bool = option("show progress bars", True)


def run_mine(args: MineArgs) -> int:
    from superpose.mining.pool import MineParams
    from superpose.mining.run import mine

    params = MineParams(theta_l=args.theta_l, theta_u=args.theta_u, kappa_l=args.kappa_l, kappa_u=args.kappa_u,
                        k=args.k, backend=args.solver, formulation=args.formulation, time_limit=args.time_limit)
    folder = mine(args.model, args.corpus, args.out, mode=args.mode, layers=args.layers, neurons=args.neurons,
                  tau=args.tau, params=params, workers=args.workers, threads=args.threads,
                  cache_dir=args.cache_dir, overwrite=args.overwrite, progress=args.progress)
    print(f"topics: {folder / 'topics.csv.gz'} (per unit: {folder}/LAYER_NEURON_POLARITY_topics.csv)")
    return 0


@dataclass
class BaselineArgs:
    """Mine random pools of the same sizes as a finished run's pools (seeded), for comparison.

    Results go to RUN/random/ in the same layout; then `superpose summary RUN` compares them.
    """

    run: str = option("a finished run folder, {out}/{model}/{mode}", metavar="DIR")
    seed: int = option("random seed", 0)
    neurons: str | None = option("only these units of each layer, e.g. 0-1535/8 for every eighth (default: all)",
                                 None, metavar="RANGE")
    workers: int = option("worker processes", 2, metavar="N")
    cache_dir: str | None = option("cache of converted embedded models", None, metavar="DIR")
    progress: bool = option("show progress bars", True)


def run_baseline(args: BaselineArgs) -> int:
    from superpose.mining.baseline import baseline

    out = baseline(args.run, seed=args.seed, neurons=args.neurons, workers=args.workers, cache_dir=args.cache_dir,
                   progress=args.progress)
    print(f"random baseline: {out / 'topics.csv.gz'}")
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
