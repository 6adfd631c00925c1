"""CLI: the LLM path (activation records, explanations, simulated scoring)."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from superpose.cli.args import Command, option
from superpose.config import Backend, ClassifierParams, CompareParams, ExplainBackend, Placement, RecordParams


@dataclass(kw_only=True)
class ActivationsArgs:
    """Collect per-neuron activation records of chosen layers over corpus text.

    The text is cut into sequences of --seq-len tokens. For every MLP neuron (activation = the
    input of the MLP down/out projection) the records keep the top-k sequences, a shared random
    sample, samples by quantile of the sequence maximum ([0,0.5], [0.5,0.9], [0.9,0.99],
    [0.99,0.999]; a second pass), and mean, variance and maximum. Output: DIR/MODEL/
    (docs/formats/llm.md). Layers already in the folder are skipped.
    """

    out: str = option("output folder; records go to DIR/MODEL/", metavar="DIR")
    model: str = option("embedded model (smollm2-135m, gemma3-270m; qwen2.5-coder-0.5b after `make qwen`), "
                        "a folder or a hub id", "smollm2-135m")
    corpus_source: list[str] = option("corpus source name or path; repeat for several",
                                      default_factory=lambda: ["default"], metavar="SRC")
    layers: str | None = option("layers, e.g. 3 or 0-5,9 or all (with --units: their layer)", None, metavar="LIST")
    units: str | None = option("record these units instead of the neurons: an SAE folder or a concept file "
                               "(`superpose concepts fit`); records go to DIR/MODEL--sae-NAME or "
                               "DIR/MODEL--concepts-NAME", None, metavar="PATH")
    params: RecordParams = field(default_factory=RecordParams)
    threads: int | None = option("torch CPU threads", None)
    placement: Placement = field(default_factory=Placement)
    progress: bool = option("show progress bars", True)


def run_activations(args: ActivationsArgs) -> int:
    from superpose.cli.runtime import set_torch_threads
    from superpose.explainer.jobs import run_activations as run

    set_torch_threads(args.threads)
    folder = run(args.model, args.corpus_source, args.layers, args.out, args.params,
                 progress=args.progress, device=args.placement, units=args.units)
    print(f"records in {folder}")
    return 0


@dataclass(kw_only=True)
class _BackendArgs:
    backend: Backend = field(default_factory=Backend)  # --backend, --model, ..., --device, --dtype
    threads: int | None = option("torch CPU threads for local models", None)
    progress: bool = option("show progress bars", True)


def _backend(args: _BackendArgs, records: str) -> Backend:
    """The command's client settings, the cache beside the records unless --cache says otherwise."""
    from superpose.cli.runtime import set_torch_threads

    set_torch_threads(args.threads)
    from superpose.explainer.clients import check_client_kind

    check_client_kind(args.backend.kind)
    return replace(args.backend, cache=args.backend.cache or str(Path(records) / "llm-cache"))


@dataclass(kw_only=True)
class ExplainArgs(_BackendArgs):
    """Explain chosen neurons from their top activation records, one JSON line per neuron.

    The default back-end uses no language model: "A, B, C, ...", the tokens holding half of a
    neuron's activation mass in its explain records (at most ten); token lists scored better than
    SmolLM2's explanations on real neurons and than SmolLM2's and Qwen2.5-Coder-0.5B's on the
    puzzles, and this one better than the five tokens by peak on held-out neurons (docs/llm.md); for
    explanations in words these local models are poor, so use a strong model on an
    OpenAI-compatible server: --backend openai --base-url URL --model ID (--backend local --model
    smollm2-135m runs the embedded one). Resumable: neurons already
    explained in --out are skipped; failed ones are retried.
    """

    backend: ExplainBackend = field(default_factory=ExplainBackend)  # --backend top-tokens-mass by default

    records: str = option("records folder (DIR/MODEL written by `superpose activations`)",
                          metavar="DIR")
    layer: int = option("layer of the neurons")
    neurons: str = option("neurons, e.g. 0-9,42 or all", metavar="LIST")
    out: str | None = option("JSON-lines output (default: RECORDS/explanations.jsonl)", None,
                             metavar="FILE")
    max_records: int = option("top records shown to the explainer", 10)
    units: str | None = option("the units the records are of (an SAE folder or a concept file): checked against "
                               "the records' metadata", None, metavar="PATH")


def job_table(job: str, out: str, requested: int, rows: list[dict[str, Any]], seconds: float) -> str:
    """What one ``explain`` or ``score`` run did, from the ``rows`` it appended to ``out``:
    neurons done, skipped (finished in an earlier run), failed, the time, and for scores the
    mean of each scorer over the rows where it is defined."""
    status = Counter(str(r.get("status")) for r in rows)
    lines = [f"{job}: {out}",
             f"  requested  {requested:>6}",
             f"  done now   {len(rows):>6}  (ok {status['ok']}, dead {status['dead']}, "
             f"failed {status['error']})",
             f"  skipped    {requested - len(rows):>6}  (finished in an earlier run)",
             f"  time       {seconds:>8.1f} s"]
    scored = [r["scores"] for r in rows if r.get("status") == "ok" and isinstance(r.get("scores"), dict)]
    names = [k for k in dict.fromkeys(k for s in scored for k in s)
             if any(isinstance(s.get(k), float) or (isinstance(s.get(k), dict) and "undefined" in s[k])
                    for s in scored)]
    if names:
        width = max(len(n) for n in names)
        lines.append(f"  {'scorer':<{width}}    mean  defined")
        for name in names:
            values = [s[name] for s in scored if isinstance(s.get(name), float) and math.isfinite(s[name])]
            mean = f"{sum(values) / len(values):+.3f}" if values else "     -"
            lines.append(f"  {name:<{width}}  {mean:>6}  {len(values)} of {len(scored)}")
    return "\n".join(lines)


def run_explain(args: ExplainArgs) -> int:
    from superpose.activations.formats import RecordStore
    from superpose.cli.checks import check_units_of
    from superpose.core.errors import SuperposeError
    from superpose.core.ranges import parse_range
    from superpose.core.tables import read_jsonl
    from superpose.explainer.jobs import run_explain as run

    check_units_of(args.units, records=args.records)
    if args.backend.kind.startswith("top-tokens") and args.backend.model != Backend.model:
        raise SuperposeError(f"--model {args.backend.model} names a language model, but the back-end is "
                             f"{args.backend.kind} "
                             "(no model): add --backend local or --backend openai")
    out = args.out or str(Path(args.records) / "explanations.jsonl")
    start, before = time.monotonic(), len(read_jsonl(out))
    summary = run(args.records, args.layer, args.neurons, out, _backend(args, args.records),
                  max_records=args.max_records, progress=args.progress)
    requested = len(parse_range(args.neurons, RecordStore(args.records).meta["n_neurons"], "neuron"))
    print(job_table("explain", out, requested, read_jsonl(out)[before:], time.monotonic() - start))
    summary.check("neuron(s)")
    return 0


@dataclass(kw_only=True)
class ScoreArgs(_BackendArgs):
    """Score explanations by simulation and embeddings on held-out records.

    Pooled correlation, calibrated R^2, absolute deviation explained and embedding AUC; one JSON
    line per neuron. The simulator ("auto"): the local back-end simulates "all at once" from
    next-token probabilities of numerals; the openai back-end does the same from the server's
    prompt logprobs (--simulator chat-numbers is the labelled fallback for servers without
    them). Resumable: (neuron, explanation) pairs already scored in --out are skipped.

    First-look default: --score-records 5 simulates 5 top and 5 random records of each of the
    calibration and held-out sets (20 sequences per explanation instead of 40), about half
    the time, with noisier scores; --score-records 0 uses every record (the full settings).
    """

    records: str = option("records folder (DIR/MODEL written by `superpose activations`)",
                          metavar="DIR")
    explanations: str | None = option("JSON lines from `superpose explain` to score", None,
                                      metavar="FILE")
    explanation: str | None = option("an explanation text to score on --layer/--neurons", None,
                                     metavar="TEXT")
    layer: int | None = option("layer, with --explanation", None)
    neurons: str | None = option("neurons, with --explanation", None, metavar="LIST")
    out: str | None = option("JSON-lines output (default: RECORDS/scores.jsonl)", None,
                             metavar="FILE")
    simulator: str = option("auto (all-at-once locally, prompt-logprobs on a server), "
                            "all-at-once, prompt-logprobs, chat-numbers, or another registered "
                            "simulator", "auto", metavar="NAME")
    embedding: bool = option("also score with all-MiniLM-L6-v2 embeddings (AUC)", True)
    batch_size: int = option("sequences per simulator forward pass", 4)
    contrast: bool = option("simulator variant: subtract its predictions under a neutral "
                            "explanation (helps small models; not OpenAI's method)", False)
    score_records: int = option(
        "score on at most K top and K random records of each of the calibration and held-out "
        "sets; 5 is a first look, 0 all records (the full settings: with 40 top and 40 random "
        "records that is 20 + 20 sequences); fewer is faster and noisier", 5, metavar="K")
    scorers: str | None = option(
        "run only these registered scorers, comma-separated, e.g. detection,fuzzing (a judge, "
        "the back-end's model, answers yes/no per example; docs/scoring.md) or "
        "correlation,r2,detection (default: the simulation's scores and the embedding AUC)",
        None, metavar="LIST")
    judge_examples: int = option("detection/fuzzing: activating (and non-activating) records "
                                 "shown per unit", CompareParams.judge_examples, metavar="N")
    judge_seed: int = option("detection/fuzzing: seed of the examples drawn", ClassifierParams.seed)
    judge_per_prompt: int = option("detection/fuzzing: examples the judge answers in one prompt (1: each "
                                   "example alone)", ClassifierParams.examples_per_prompt, metavar="N")
    judge_window: int = option("detection/fuzzing: tokens per example around its peak (0: the whole record; "
                               "delphi shows 32)", ClassifierParams.window, metavar="N")
    units: str | None = option("the units the records are of (an SAE folder or a concept file): checked against "
                               "the records' metadata", None, metavar="PATH")


def run_score(args: ScoreArgs) -> int:
    from superpose.activations.formats import RecordStore
    from superpose.cli.checks import check_units_of
    from superpose.core.errors import SuperposeError
    from superpose.core.ranges import parse_range
    from superpose.core.tables import read_jsonl
    from superpose.explainer.jobs import run_score as run
    from superpose.explainer.simulators import SimulatorContext, make_simulator, simulator_kinds

    check_units_of(args.units, records=args.records)
    start = time.monotonic()
    backend = _backend(args, args.records)
    given = []
    if args.explanation is not None:
        if not args.explanation.strip():
            raise SuperposeError("--explanation is empty: give the text to score")
        if args.layer is None or args.neurons is None:
            raise SuperposeError("--explanation needs --layer and --neurons")
        count = RecordStore(args.records).meta["n_neurons"]
        given = [(args.layer, n, args.explanation)
                 for n in parse_range(args.neurons, count, "neuron")]
    if args.simulator != "auto" and args.simulator not in simulator_kinds():
        raise SuperposeError(f"unknown simulator {args.simulator!r}; choose auto or one of: "
                             + ", ".join(simulator_kinds()))
    chosen = judged_scorers(args.scorers)

    if args.judge_examples < 1:
        raise SuperposeError(f"--judge-examples must be at least 1, not {args.judge_examples}")
    params = ClassifierParams(n_activating=args.judge_examples, n_non_activating=args.judge_examples,
                              seed=args.judge_seed, examples_per_prompt=args.judge_per_prompt,
                              window=args.judge_window)
    # checked before any model loads
    context = SimulatorContext(backend, batch_size=args.batch_size)
    simulator = None
    if chosen is None or set(chosen) - NO_SIMULATION:
        simulator = make_simulator(args.simulator, context)
    if args.contrast and simulator is not None:
        from superpose.explainer.simulators.contrast import ContrastSimulator

        simulator = ContrastSimulator(simulator)
    judge = judging(chosen or [], backend, context, params)
    out = args.out or str(Path(args.records) / "scores.jsonl")
    before = len(read_jsonl(out))
    embedding = args.embedding if chosen is None else "embedding_auc" in chosen
    summary = run(args.records, out, simulator=simulator, explanations=given,
                  explanations_file=args.explanations, embedding=embedding,
                  score_records=args.score_records, progress=args.progress,
                  scorers=chosen or (), judge=judge, simulation=chosen is None)
    stored = [(int(r["layer"]), int(r["neuron"]), str(r["explanation"]))
              for r in (read_jsonl(args.explanations) if args.explanations else []) if r.get("status") == "ok"]
    requested = len(dict.fromkeys([*given, *stored]))
    print(job_table("score", out, requested, read_jsonl(out)[before:], time.monotonic() - start))
    summary.check("score(s)")
    return 0


NO_SIMULATION = frozenset({"detection", "fuzzing", "embedding_auc"})
JUDGED = frozenset({"detection", "fuzzing"})


def judged_scorers(text: str | None) -> list[str] | None:
    """``--scorers`` as a list of input-side scorer names (None: not given); unknown names are a
    one-line error listing the known ones."""
    from superpose.core.errors import SuperposeError
    from superpose.explainer.scorers import scorer_names

    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    known = scorer_names("input")
    bad = [n for n in names if n not in known]
    if not names or bad:
        raise SuperposeError(f"unknown scorer {bad[0]!r} in --scorers; known: {', '.join(known)}"
                             if bad else "--scorers is empty; give e.g. detection,fuzzing")
    return list(dict.fromkeys(names))


def judging(names: list[str], backend: Any, context: Any, params: Any) -> Any:
    """The judge of detection and fuzzing (the back-end's model; a local one shared with the
    simulator), or None when neither runs."""
    if not JUDGED & set(names):
        return None
    from superpose.explainer.scorers.classifier import Judging, make_judge

    local = context.local_model() if backend.kind == "local" else None
    return Judging(make_judge(backend, local), params)


COMMANDS: list[Command] = [
    Command(("activations",), ActivationsArgs, run_activations),
    Command(("explain",), ExplainArgs, run_explain),
    Command(("score",), ScoreArgs, run_score),
]
