"""One frozen dataclass per stage: the only home of each parameter's default, choices and checks.

Every config validates itself in ``__post_init__``, so a bad value is a one-line
:class:`~superpose.core.errors.SuperposeError` naming the option and the fix, before a model is
loaded, a file is written or a worker is started. The CLI builds its options from these fields
(help text, flag and choices in each field's metadata), and the library functions and scripts
take the same objects (or read a default as ``ProjectionConfig.tau``), so every default is written
once. A field's ``flag`` is its CLI option where that differs from ``--field-name``.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fields import option
from superpose.execution import executor_names
from superpose.mining.clique import DEFAULT_SOLVER, solver_names

MODES = ("hi-c", "hi-i", "lo-c", "lo-i")
POLARITIES = ("pos", "neg")  # the words a unit pushes up, and those it pushes down
FORMULATIONS = ("strong", "paper", "triangle")
POOLINGS = ("whole-tokens", "subtokens")  # token-to-word rules: superpose.projection.pools
WINDOWINGS = ("filtered", "raw")
STOPWORDS = ("remove", "keep")
CONVENTIONS = ("superpose", "lim-lauw")  # counting conventions: superpose.corpus.build
DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("float32", "bfloat16", "float16")
DEFAULT_DEVICE = "cpu"
DEFAULT_DTYPE = "float32"


def split_address(address: str) -> tuple[str, int] | None:
    """``host:port`` (or ``ray://host:port``) as (host, port), None for ``auto``; a one-line error
    otherwise. Only the syntax: nothing is contacted until the executor is made."""
    if address == "auto":
        return None
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise SuperposeError(f"Ray address {address!r} is not host:port (e.g. 10.0.0.5:6379, or "
                             "ray://10.0.0.5:10001 for Ray Client)")
    return host.strip("[]"), int(port)


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


def _check_number(name: str, value: Any, low: float, high: float = math.inf, *, above: bool = False,
                  span: str = "") -> float:
    """A finite real number in [low, high] ((low, high] when ``above``); ``span`` words the range."""
    ok = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) \
        and (value > low if above else value >= low) and value <= high
    if not ok:
        raise SuperposeError(f"{name} must be {span or f'at least {low}'}, not {value!r}")
    return float(value)


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
    solver: str = option("exact k-clique back-end: bnb (dedicated branch and bound), highs (scipy), scip "
                         "(pyscipopt) or cvxpy-scip (CVXPY with SCIP, as the paper)", DEFAULT_SOLVER,
                         choices=solver_names)
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
        _check_choice("solver back-end", self.solver, solver_names())
        _check_choice("formulation", self.formulation, FORMULATIONS)
        if isinstance(self.time_limit, bool) or not isinstance(self.time_limit, int | float) \
                or not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise SuperposeError(f"--time-limit must be a positive number of seconds, got {self.time_limit!r}")

    def to_json(self) -> dict[str, Any]:
        """The request as run.json records it: the solver under its original key, ``backend``, so
        earlier runs still resume."""
        return {("backend" if key == "solver" else key): value for key, value in asdict(self).items()}

    @classmethod
    def from_json(cls, params: dict[str, Any]) -> MiningConfig:
        """The config :meth:`to_json` wrote (run.json's ``request.params``)."""
        return cls(**{("solver" if key == "backend" else key): value for key, value in params.items()})

    @classmethod
    def from_kwargs(cls, **params: Any) -> MiningConfig:
        """The config from keyword arguments, ``backend`` accepted for ``solver`` with a DeprecationWarning;
        an unknown name is a one-line error."""
        if "backend" in params and "solver" not in params:
            warnings.warn("the mining parameter backend= is now solver=", DeprecationWarning, stacklevel=3)
            params["solver"] = params.pop("backend")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise SuperposeError(f"unknown mining parameter(s) {', '.join(unknown)}: choose from {', '.join(names)}")
        return cls(**params)


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
                           "cluster (pip install 'superpose[ray]')", "local", choices=executor_names)
    workers: int | str = option("worker processes: 1 to the number of available cores, or auto (all of them)",
                                "auto", metavar="N", parse=parse_workers)
    address: str | None = option("with --executor ray: a running Ray cluster's head, host:port (ray://host:port "
                                 "for Ray Client); default: start a local cluster of --workers CPUs", None,
                                 metavar="ADDR")

    def __post_init__(self) -> None:
        _check_choice("executor", self.executor, executor_names())
        if self.address is not None and self.executor != "ray":
            raise SuperposeError(f"--address is for --executor ray, not {self.executor}: add --executor ray "
                                 "or leave out --address")
        if self.address is not None:
            split_address(self.address)  # syntax only: the cluster is contacted when the executor is made
        cores = available_cores()
        workers = cores if self.workers == "auto" else self.workers
        _check_int("--workers", workers, 1, cores, fix=f" (this machine has {cores} available cores; or 'auto')")
        object.__setattr__(self, "workers", int(workers))


# ---- where a model runs (every stage that runs one) --------------------------------------------

def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _no_cuda_reason() -> str:
    import torch

    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is built without CUDA"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no usable GPU"


@dataclass(frozen=True)
class Placement:
    """Device and precision of a model; ``auto`` is resolved and CUDA checked on construction.

    ``device`` is ``cpu``, ``cuda``, ``cuda:N`` or ``auto``; after construction it is never
    ``auto``. ``dtype`` names the torch dtype of the weights and activations.
    """

    device: str = option("where the model runs: cpu, cuda, or auto (a CUDA GPU when one is present)",
                         DEFAULT_DEVICE, choices=DEVICES)
    dtype: str = option("precision of the model's weights and activations (README: what bfloat16 changes)",
                        DEFAULT_DTYPE, choices=DTYPES)

    def __post_init__(self) -> None:
        device = str(self.device).strip().lower()
        dtype = str(self.dtype).strip().lower()
        if dtype not in DTYPES:
            raise SuperposeError(f"unknown dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
        base, _, index = device.partition(":")
        if base not in DEVICES or (index and (base != "cuda" or not index.isdigit())):
            raise SuperposeError(f"unknown device {device!r}: choose cpu, cuda, cuda:N or auto")
        if base != "cpu":
            count = _cuda_count()
            if base == "auto":
                device = "cuda" if count > 0 else "cpu"
            elif count == 0:
                raise SuperposeError(f"--device {device} needs a CUDA GPU, but {_no_cuda_reason()}: use "
                                     "--device cpu, or auto to take a GPU only when present")
            elif index and int(index) >= count:
                raise SuperposeError(f"--device {device}: there are only {count} CUDA GPU(s), "
                                     f"cuda:0-cuda:{count - 1}")
        object.__setattr__(self, "device", device)
        object.__setattr__(self, "dtype", dtype)

    @property
    def torch_device(self) -> Any:
        import torch

        return torch.device(self.device)

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    @property
    def is_default(self) -> bool:
        """True for the CPU in float32, the setting every earlier output was made with."""
        return self.device == DEFAULT_DEVICE and self.dtype == DEFAULT_DTYPE

    def label(self) -> str:
        """Short text for logs, e.g. ``cuda/bfloat16``."""
        return f"{self.device}/{self.dtype}"

    def name_suffix(self) -> str:
        """``""`` for the default, else e.g. ``@cuda-bfloat16``: appended to the name of a local
        explainer or simulator, so its cached replies and scores are not taken for float32 ones."""
        return "" if self.is_default else f"@{self.device.replace(':', '')}-{self.dtype}"

    def to_json(self) -> dict[str, str]:
        return {"device": self.device, "dtype": self.dtype}


# ---- the reference corpus (superpose.corpus.build) ----------------------------------------------

@dataclass(frozen=True)
class CorpusParams:
    """Everything that determines a corpus's counts (recorded in its metadata).

    The defaults remove English stopwords and words under three letters: without that the best
    topics of every mode are function words and letters. ``stopwords="keep", min_length=1`` is
    the old default (the committed SmolLM2 run was mined on it).
    """

    window: int = option("sliding-window length in tokens", 10)
    windowing: str = option("filtered: drop out-of-vocabulary words before windowing (Lim & Lauw); raw: windows "
                            "over the full token stream, as Palmetto and gensim do", "filtered", choices=WINDOWINGS)
    min_count: int = option("minimum corpus frequency of a vocabulary word", 10, metavar="N")
    max_vocab: int | None = option("keep at most the N most frequent words", None, metavar="N")
    stopwords: str = option("remove English stopwords (gensim's list) from the vocabulary, or keep them", "remove",
                            choices=STOPWORDS)
    min_length: int = option("minimum word length in letters (1 keeps every word)", 3, metavar="N")
    convention: str = option(
        "superpose: every count on the vocabulary-filtered stream, the minimum count on word occurrences; "
        "lim-lauw: the reference code's (PreferredAI/topic-metrics): every line a document, the number of "
        "windows from whitespace tokens, --min-windows on word and pair window counts (see "
        "docs/reference-corpus.md)", "superpose", choices=CONVENTIONS)
    min_windows: int | None = option(
        "lim-lauw only: the reference's min_freq, window counts under it are absent from NPMI (default: "
        "--min-count)", None, metavar="F")

    def __post_init__(self) -> None:
        _check_int("--window", self.window, 1)
        _check_choice("windowing", self.windowing, WINDOWINGS)
        _check_int("--min-count", self.min_count, 1)
        if self.max_vocab is not None:
            _check_int("--max-vocab", self.max_vocab, 1)
        _check_choice("stopwords rule", self.stopwords, STOPWORDS)
        _check_int("--min-length", self.min_length, 1)
        _check_choice("convention", self.convention, CONVENTIONS)
        if self.min_windows is not None and self.convention != "lim-lauw":
            raise SuperposeError("--min-windows is the reference's min_freq and applies under --convention "
                                 "lim-lauw only: add --convention lim-lauw or drop --min-windows")
        if self.min_windows is not None:
            _check_int("--min-windows", self.min_windows, 0)
        if self.convention == "lim-lauw" and self.windowing != "filtered":
            raise SuperposeError("--convention lim-lauw counts windows of the filtered stream, as the reference "
                                 "does: drop --windowing raw")


# ---- activation records and the explainer (superpose.explainer.jobs, superpose.explainer.clients) --

@dataclass(frozen=True)
class RecordParams:
    """Which sequences the activation records keep for every neuron (docs/formats/llm.md)."""

    seq_len: int = option("tokens per sequence", 64)
    max_tokens: int = option("corpus tokens to read", 200_000)
    top_k: int = option("top-activating sequences kept per neuron", 40)
    n_random: int = option("random sequences kept (shared by all neurons)", 40, flag="--random")
    per_quantile: int = option("sequences per quantile bucket and neuron (0: one pass only)", 10)
    batch_size: int = option("sequences per forward pass", 16)
    seed: int = option("random seed of the samples", 0)
    spill_limit_gb: float = option(
        "GiB of activations the quantile pass may re-read from a temporary file instead of "
        "running the model again (same records, about half the time; 0: always rerun)", 8.0,
        flag="--spill-limit", metavar="GB")
    spill_dir: str | None = option("folder for that temporary file (default: the system's "
                                   "temporary folder, e.g. $TMPDIR)", None, metavar="DIR")

    def __post_init__(self) -> None:
        _check_int("--seq-len", self.seq_len, 1)
        _check_int("--max-tokens", self.max_tokens, 1)
        _check_int("--top-k", self.top_k, 1)
        _check_int("--random", self.n_random, 0)
        _check_int("--per-quantile", self.per_quantile, 0)
        _check_int("--batch-size", self.batch_size, 1)
        _check_int("--seed", self.seed, 0)
        _check_number("--spill-limit", self.spill_limit_gb, 0, span="0 or more GiB")


@dataclass(frozen=True)
class Backend:
    """Where explanations (and remote simulations) come from: a chat client kind and its settings.

    ``kind`` names a registered client (:func:`superpose.explainer.clients.client_kinds`, checked
    when the client is made: the registry lives in a later stage).
    """

    kind: str = option("local: a transformers model on this CPU; openai: any OpenAI-compatible server "
                       "(key from OPENAI_API_KEY only); or another registered client", "local", flag="--backend",
                       metavar="KIND")
    model: str = option("local model (smollm2-135m, qwen2.5-coder-0.5b, folder) or the server's model id",
                        "smollm2-135m")
    base_url: str | None = option("server URL, e.g. http://127.0.0.1:8000/v1 (openai back-end)", None,
                                  metavar="URL")
    concurrency: int = option("parallel requests to the server", 4)
    timeout: float = option("seconds before a request times out", 60.0)
    retries: int = option("retries of transient server errors, with exponential backoff", 4)
    cache: str | None = option("request/response cache folder (default: RECORDS/llm-cache)", None, metavar="DIR")
    placement: Placement = field(default_factory=Placement)  # --device, --dtype: of local models

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind.strip():
            raise SuperposeError(f"--backend must name a chat client kind (e.g. local or openai), not {self.kind!r}")
        if not isinstance(self.model, str) or not self.model.strip():
            raise SuperposeError(f"--model must name the explainer model, not {self.model!r}")
        _check_int("--concurrency", self.concurrency, 1)
        _check_number("--timeout", self.timeout, 0, above=True, span="a positive number of seconds")
        _check_int("--retries", self.retries, 0)


TOKEN_RANKS = ("peak", "mass", "mean", "records")  # how the top-tokens explainer orders a unit's tokens


@dataclass(frozen=True)
class TopTokensParams:
    """How the top-tokens explainer (no language model) picks the tokens it names from a unit's
    explain records. The defaults are the committed explainer: the five tokens of highest peak
    activation; the other choices were measured on a dev set of neurons (docs/llm.md)."""

    count: int = option("tokens named per unit (with --token-share: at most this many)", 5, flag="--tokens",
                        metavar="N")
    rank: str = option("order of the tokens: peak (highest single activation), mass (sum of activations above "
                       "zero over every occurrence), mean (mean activation over its occurrences), records "
                       "(records whose highest activation is on it)", "peak", flag="--token-rank",
                       choices=TOKEN_RANKS)
    fold_case: bool = option("one token for its case variants (The/the), shown in its strongest spelling", False,
                             flag="--fold-case")
    share: float = option("name the fewest tokens whose activation mass reaches this share of all the explain "
                          "records' mass (0: always --tokens)", 0.0, flag="--token-share", metavar="F")
    context: bool = option("name each token with the token that most often precedes it where it fires "
                           "(\"X after Y\")", False, flag="--token-context")
    prefix: str = option("text before the tokens", "the tokens ", flag="--token-prefix", metavar="TEXT")

    def __post_init__(self) -> None:
        _check_int("--tokens", self.count, 1, 100)
        _check_choice("--token-rank", self.rank, TOKEN_RANKS)
        _check_number("--token-share", self.share, 0.0, 1.0, span="a share from 0 to 1")

    def describe(self) -> str:
        """A short name of the choices, the committed explainer's \"5\" when nothing else is set."""
        base = TopTokensParams()
        changed = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                   if f.name != "count" and getattr(self, f.name) != getattr(base, f.name)]
        return ",".join([str(self.count), *changed])


# The variant chosen on the dev neurons and measured once on the test neurons (docs/llm.md): tokens by
# activation mass until half the mass is named, at most ten, without "the tokens" (--backend top-tokens-mass).
TOP_TOKENS_MASS = TopTokensParams(count=10, rank="mass", share=0.5, prefix="")


@dataclass(frozen=True)
class ExplainBackend(Backend):
    """The explainer of ``superpose explain``: by default no language model (``top-tokens-mass``: the
    tokens holding half of a unit's activation mass in its explain records, at most ten), because on
    real SmolLM2 neurons and on the puzzles a token list scored better than SmolLM2's explanations,
    and this list better than the five tokens by peak on held-out neurons (docs/llm.md)."""

    kind: str = option("top-tokens-mass (default: no language model, the tokens holding half the activation "
                       "mass, at most ten); top-tokens: tokens by peak, chosen with --tokens, --token-rank, ...; "
                       "local: a transformers model on this CPU (--model); openai: any OpenAI-compatible server "
                       "(key from OPENAI_API_KEY only); or another registered client", "top-tokens-mass",
                       flag="--backend",
                       metavar="KIND")
    tokens: TopTokensParams = field(default_factory=TopTokensParams)  # --tokens, --token-rank, ...: top-tokens only

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.kind != "top-tokens" and self.tokens != TopTokensParams():
            raise SuperposeError(f"--tokens, --token-rank, --fold-case, --token-share, --token-context and "
                                 f"--token-prefix choose the top-tokens explainer's text, but the back-end is "
                                 f"{self.kind}: drop them or add --backend top-tokens")


# ---- detection and fuzzing (a judge answers yes/no per example) ---------------------------------

JUDGE_ORDERS = ("unit", "shared")


@dataclass(frozen=True)
class ClassifierParams:
    """How the detection and fuzzing scorers draw examples and show them to the judge."""

    n_activating: int = option("activating records per unit (fuzzing shows each twice)", 10)
    n_non_activating: int = option("non-activating records per unit (detection only)", 10)
    n_quantiles: int = option("activation quantile groups the activating records are drawn across", 5)
    examples_per_prompt: int = option(
        "examples the judge answers in one prompt, as a list such as [1,0,0,1,1]; 5 as delphi's default "
        "(num_examples_per_scorer_prompt); 1 asks about each example alone (more prompts, more tokens)", 5)
    window: int = option("tokens per example around its peak, the peak three quarters of the way in (0: the whole "
                         "record); 16 costs the judge about half the tokens of delphi's 32 (docs/scoring.md)", 16)
    active_fraction: float = option("a record activates when its peak reaches this share of the unit's largest "
                                    "activation", 0.3)
    seed: int = option("seed of the examples drawn (the same for an explanation and its control)", 0)
    order: str = option("order of a unit's examples: unit (shuffled by a seed hashed from seed and the unit's "
                        "examples, so a judge's liking for some positions cannot line up with the truth the same "
                        "way on every unit) or shared (one order for every unit with as many examples, the "
                        "earlier rule)", "unit", choices=JUDGE_ORDERS)

    def __post_init__(self) -> None:
        _check_choice("order", self.order, JUDGE_ORDERS)
        _check_int("n_activating", self.n_activating, 1)
        _check_int("n_non_activating", self.n_non_activating, 0)
        _check_int("n_quantiles", self.n_quantiles, 1)
        _check_int("examples_per_prompt (score --judge-per-prompt)", self.examples_per_prompt, 1, 20)
        if _check_int("window (score --judge-window)", self.window, 0) and self.window < 4:
            raise SuperposeError(f"window (score --judge-window) must be 0 (whole records) or at least 4 tokens, "
                                 f"got {self.window!r}")
        if not 0 < self.active_fraction <= 1:
            raise SuperposeError(f"active_fraction must be in (0, 1], got {self.active_fraction!r}")


# ---- topics against explanations (superpose.compare, superpose.activations.steering) -------------

@dataclass(frozen=True)
class CompareParams:
    """Settings of one comparison; written to compare.json."""

    max_topics: int = option("positive (and negative) topics joined into a neuron's topic text", 1, metavar="N")
    score_records: int = option("simulate at most K top and K random records of each of the calibration and "
                                "held-out sets (0: all); fewer is faster and noisier", 0, metavar="K")
    calibration: bool = option("also simulate the calibration records (for R^2); off halves the input side's "
                               "cost and leaves correlation unchanged", True)
    embedding: bool = option("also score with all-MiniLM-L6-v2 embeddings (AUC, input side)", False)
    bootstrap: int = option("bootstrap resamples of the intervals", 2000, metavar="N")
    seed: int = option("bootstrap seed", 0)
    scorers: tuple[str, ...] = option(
        "more input-side scorers, comma-separated: detection,fuzzing (a judge, the local --model, answers yes/no "
        "per example; docs/scoring.md), each a column with its shuffled control", (), metavar="LIST",
        parse=lambda text: tuple(n.strip() for n in text.split(",") if n.strip()))
    judge_examples: int = option("detection/fuzzing: activating (and non-activating) records shown per unit",
                                 ClassifierParams.n_activating, metavar="N")

    def __post_init__(self) -> None:
        _check_int("--max-topics", self.max_topics, 1)
        _check_int("--judge-examples", self.judge_examples, 1)
        if isinstance(self.score_records, bool) or not isinstance(self.score_records, int) or self.score_records < 0:
            raise SuperposeError(f"--score-records must be 0 (all records) or more, not {self.score_records!r}")
        _check_int("--bootstrap", self.bootstrap, 100)
        _check_int("--seed", self.seed, 0)


@dataclass(frozen=True)
class SteeringParams:
    """How hard and how long to steer (the output side)."""

    quantile: float = option("quantile of the top records' peak activations", 0.9, flag="--steer-quantile",
                             metavar="Q")
    gain: float = option("clamp value = gain x the --steer-quantile of the top records' peaks", 4.0,
                         flag="--steer-gain", metavar="X")
    new_tokens: int = option("greedy tokens generated per prompt under steering (positions measured)", 4,
                             flag="--steer-tokens", metavar="N")
    top_tokens: int = option("promoted and suppressed tokens kept per unit for the tables and the report", 12,
                             flag="--steer-top-tokens", metavar="N")

    def __post_init__(self) -> None:
        _check_number("--steer-quantile", self.quantile, 0, 1, span="in [0, 1]")
        _check_number("--steer-gain", self.gain, 0, above=True, span="positive")
        _check_int("--steer-tokens", self.new_tokens, 1)
        _check_int("--steer-top-tokens", self.top_tokens, 0)


# ---- concepts learned from activations (superpose concepts fit) --------------------------------

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
