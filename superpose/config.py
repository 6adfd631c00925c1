"""One frozen dataclass per stage: the only home of each parameter's default, choices and checks.

Every config validates itself on construction, so a bad value is a one-line
:class:`~superpose.core.errors.SuperposeError` before a model is loaded, a file is written or a
worker is started. The CLI builds its options from these fields (help text included), and the
library functions take the same objects, so both paths share one set of defaults.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fields import option

MODES = ("hi-c", "hi-i", "lo-c", "lo-i")
POLARITIES = ("pos", "neg")  # the words a unit pushes up, and those it pushes down
FORMULATIONS = ("strong", "paper", "triangle")
POOLINGS = ("whole-tokens", "subtokens")  # superpose.projection.pools


def _executor_names() -> tuple[str, ...]:
    from superpose.execution import executor_names

    return executor_names()


def _solver_names() -> tuple[str, ...]:
    from superpose.mining.clique import solver_names

    return solver_names()


def _check_int(name: str, value: Any, low: int, high: int | None = None, fix: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise SuperposeError(f"{name} must be a whole number, got {value!r}{fix}")
    if value < low or (high is not None and value > high):
        span = f"{low}-{high}" if high is not None else f"at least {low}"
        raise SuperposeError(f"{name} must be {span}, got {value!r}{fix}")
    return int(value)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SuperposeError(f"unknown {name} {value!r}: choose one of {', '.join(choices)}")


@dataclass(frozen=True)
class ProjectionConfig:
    """How units are read through the weights (method steps 1-2). Checked against the model later:
    tau against its vocabulary, layers and units against its shape."""

    mode: str = option("hi-c: neuron through the later blocks; hi-i: neuron straight to the unembedding; lo-c: "
                       "residual dimension through this and later blocks; lo-i: through this block only",
                       "hi-c", choices=MODES)
    tau: int = option("tokens at each end of a unit's logits that form its pools", 900)
    pooling: str = option("token-to-word rule: whole-tokens (strip each token's space marker) or subtokens (the "
                          "reference code's SentencePiece rule: a corpus word whose sub-tokens are all among the top "
                          "tokens, the cut shrunk by 50 until at most tau words remain)", "whole-tokens",
                          choices=POOLINGS)
    sae: str | None = option("units instead of the MLP neurons: the latents of an SAE or transcoder (a SAELens or "
                             "sparsify folder, a Gemma Scope params.npz) or the concepts of a concept file "
                             "(`superpose concepts fit`); the layer is the units'; their output directions go "
                             "through hi-c or hi-i", None, flag="--units", aliases=("--sae",), metavar="PATH")
    sae_hook: str | None = option("override the SAE's hook, e.g. blocks.8.hook_resid_post", None, metavar="NAME")

    def __post_init__(self) -> None:
        _check_choice("mode", self.mode, MODES)
        _check_int("--tau", self.tau, 1, fix=": the number of top and bottom tokens kept per unit, e.g. 900")
        _check_choice("pooling", self.pooling, POOLINGS)
        if self.sae is not None and self.mode.startswith("lo"):
            raise SuperposeError(f"mode {self.mode} projects residual dimensions, not SAE latents or concepts: "
                                 "use hi-c or hi-i with --units")
        if self.sae_hook is not None and self.sae is None:
            raise SuperposeError("--sae-hook names the hook of an SAE: give the SAE with --units")

    @property
    def unit_kind(self) -> str:
        """What a unit is in this mode, for messages."""
        if self.sae is not None:
            return "SAE latent or concept"
        return "neuron" if self.mode.startswith("hi") else "residual dimension"


@dataclass(frozen=True)
class MiningConfig:
    """The coherence graph, star shortlist and exact k-clique (method steps 3-5); defaults: the paper's."""

    theta_l: float = option("star heuristic: lowest NPMI of a kept edge", 0.1)
    theta_u: float = option("star heuristic: highest NPMI of a kept edge", 1.0)
    kappa_l: int = option("star heuristic: fewest words of a shortlisted set (and kept neighbours)", 10)
    kappa_u: int = option("star heuristic: most words of a shortlisted set", 24)
    k: int = option("words per topic (at most --kappa-u)", 10)
    backend: str = option("exact k-clique back-end: bnb (dedicated branch and bound), highs (scipy), scip "
                          "(pyscipopt) or cvxpy-scip (CVXPY with SCIP, as the paper)", "bnb", flag="--solver",
                          choices=_solver_names)
    formulation: str = option("integer program for the MILP back-ends: strong (one equation per word), the "
                              "paper's, or strong with triangle cuts", "strong", choices=FORMULATIONS)
    time_limit: float = option("seconds per k-clique instance; a hit is recorded with status and gap", 120.0)

    def __post_init__(self) -> None:
        for name, value in (("--theta-l", self.theta_l), ("--theta-u", self.theta_u)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not -1 <= value <= 1:
                raise SuperposeError(f"{name} must be a number in [-1, 1] (NPMI's range), got {value!r}")
        if self.theta_l > self.theta_u:
            raise SuperposeError(f"--theta-l ({self.theta_l}) is above --theta-u ({self.theta_u}): no edge "
                                 "could be kept; choose theta_l <= theta_u")
        _check_int("--kappa-l", self.kappa_l, 1)
        _check_int("--kappa-u", self.kappa_u, 2)
        _check_int("--k", self.k, 2, fix=": a topic's score is a mean over word pairs")
        if self.kappa_l > self.kappa_u:
            raise SuperposeError(f"--kappa-l ({self.kappa_l}) is above --kappa-u ({self.kappa_u}): choose "
                                 "kappa_l <= kappa_u")
        if self.k > self.kappa_u:
            raise SuperposeError(f"--k ({self.k}) is above --kappa-u ({self.kappa_u}): no shortlisted set could "
                                 "hold a topic; choose k <= kappa_u")
        _check_choice("solver back-end", self.backend, _solver_names())
        _check_choice("formulation", self.formulation, FORMULATIONS)
        if isinstance(self.time_limit, bool) or not isinstance(self.time_limit, int | float) \
                or not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise SuperposeError(f"--time-limit must be a positive number of seconds, got {self.time_limit!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_workers(text: str) -> int | str:
    """``auto`` or a whole number, as typed on the command line."""
    text = text.strip()
    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise SuperposeError(f"--workers must be a whole number or 'auto', got {text!r}") from None


@dataclass(frozen=True)
class ExecutionConfig:
    """Where the per-pool jobs run (see :mod:`superpose.execution`)."""

    executor: str = option("local: worker processes on this machine; serial: in this process; ray: a Ray "
                           "cluster (pip install 'superpose[ray]')", "local", choices=_executor_names)
    workers: int | str = option("worker processes: 1 to the number of available cores, or auto (all of them)",
                                "auto", metavar="N", parse=parse_workers)
    address: str | None = option("with --executor ray: a running Ray cluster's head, host:port (ray://host:port "
                                 "for Ray Client); default: start a local cluster of --workers CPUs", None,
                                 metavar="ADDR")

    def __post_init__(self) -> None:
        _check_choice("executor", self.executor, _executor_names())
        if self.address is not None and self.executor != "ray":
            raise SuperposeError(f"--address is for --executor ray, not {self.executor}: add --executor ray "
                                 "or leave out --address")
        if self.address is not None:
            from superpose.execution.ray import check_address

            check_address(self.address)  # an address that does not answer fails here, before any work
        cores = available_cores()
        workers = cores if self.workers == "auto" else self.workers
        _check_int("--workers", workers, 1, cores, fix=f" (this machine has {cores} available cores; or 'auto')")
        object.__setattr__(self, "workers", int(workers))


CONCEPT_METHODS = ("nmf", "semi-nmf", "ica", "pca", "kmeans")


@dataclass(frozen=True)
class ConceptConfig:
    """How concepts are learned from a layer's MLP activations (``superpose concepts fit``)."""

    method: str = option("nmf, semi-nmf (codes >= 0, concepts signed; Ding et al. 2010, as interpreto), ica, pca "
                         "or kmeans", choices=CONCEPT_METHODS)
    n: int = option("concepts to learn", 20)
    max_tokens: int = option("corpus tokens read (training plus held-out)", 65536)
    seq_len: int = option("tokens per sequence", 64)
    held_out: float = option("share of the sequences held out to measure reconstruction and sparsity", 0.1)
    seed: int = option("seed of the split and of every method's initialisation", 0)
    max_iter: int = option("iterations of the iterative methods (nmf, semi-nmf, ica, kmeans)", 200)

    def __post_init__(self) -> None:
        _check_choice("method", self.method, CONCEPT_METHODS)
        _check_int("--n", self.n, 1, fix=": the number of concepts, e.g. 20")
        _check_int("--seq-len", self.seq_len, 2)
        _check_int("--max-tokens", self.max_tokens, 2 * self.seq_len,
                   fix=": enough for a training and a held-out sequence")
        _check_int("--seed", self.seed, 0)
        _check_int("--max-iter", self.max_iter, 1)
        if isinstance(self.held_out, bool) or not isinstance(self.held_out, int | float) \
                or not 0 < self.held_out < 1:
            raise SuperposeError(f"--held-out must be a share between 0 and 1 (exclusive), got {self.held_out!r}")
