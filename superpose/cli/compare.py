"""CLI: topics against LLM explanations, scored on the input and the output side (a 2x2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from superpose.cli.args import Command, option
from superpose.config import Backend, CompareParams, Placement, SteeringParams


def _simulator_names() -> list[str]:
    from superpose.explainer.simulators import simulator_kinds

    return [name for name in simulator_kinds() if name not in ("prompt-logprobs", "chat-numbers")]


@dataclass
class CompareArgs:
    """Compare topics with LLM explanations on the input side and on the output side.

    One text per neuron and source: its best --max-topics positive topics ("words such as ...")
    and its LLM explanation. Input side: correlation of simulated with true activations pooled
    over held-out records (also R^2 and absolute deviation explained, ours and OpenAI's), by
    --simulator (default: MiniLM embeddings, no LLM).
    Output side: the unit is clamped to --steer-gain x the --steer-quantile of its top records'
    peak activations while the records' model reads fixed neutral prompts (a concept of --units:
    the neuron activations move along its row by that value minus its code); a text scores by how
    much its words gain in log-probability under steering, as an AUC against other neurons'
    texts (no judge model). Every score has a shuffled control (the next neuron's text of the
    same layer). Negative topics are scored on both sides as extra columns. Writes
    OUT/compare.csv (and .csv.gz; one row per neuron), OUT/layers.csv (per-layer means, real
    minus shuffled and topics minus LLM with 95% paired bootstrap intervals), OUT/summary.md,
    OUT/scores.jsonl (input-side scores; resumable), OUT/steering.jsonl (promoted and suppressed
    tokens, continuations) and OUT/compare.json (parameters and versions).
    """

    results: str = option("topics: a mining run folder ({out}/{model}/{mode} of `superpose mine`) or its "
                          "topics table (topics.csv, .csv.gz, .csv.xz)", metavar="PATH")
    explanations: str = option("explanations: the JSON-lines file of `superpose explain`, or the records "
                               "folder holding explanations.jsonl", metavar="PATH")
    out: str = option("output folder", metavar="DIR")
    records: str | None = option("activation records folder (default: the --explanations folder)", None,
                                 metavar="DIR")
    simulator: str = option("input-side simulator: embedding (all-MiniLM-L6-v2 similarity of each token to the "
                            "text: judge-free, no LLM; the default because it tells true from false explanations "
                            "far more often than the SmolLM2 simulator, README), all-at-once (the method's, on "
                            "--model), ensemble (both, averaged), or another registered simulator", "embedding",
                            metavar="NAME", choices=_simulator_names)
    model: str = option("local model of LLM simulators (smollm2-135m, qwen2.5-coder-0.5b, folder)", Backend.model,
                        metavar="NAME")
    contrast: bool = option("simulator variant: subtract its predictions under a neutral explanation (not "
                            "OpenAI's method)", False)
    batch_size: int = option("sequences per simulator forward pass", 4, metavar="N")
    params: CompareParams = field(default_factory=CompareParams)
    steering: SteeringParams = field(default_factory=SteeringParams)
    units: str | None = option("the units of the run and records (an SAE folder or a concept file): checked "
                               "against their metadata", None, metavar="PATH")
    threads: int | None = option("torch CPU threads", None, metavar="N")
    placement: Placement = field(default_factory=Placement)
    progress: bool = option("show progress bars", True)


def run_compare(args: CompareArgs) -> int:
    from superpose.cli.runtime import set_torch_threads

    set_torch_threads(args.threads)
    from superpose.activations.formats import RecordStore
    from superpose.activations.steering import Steerer
    from superpose.cli.llm import judged_scorers, judging
    from superpose.compare import compare
    from superpose.config import ClassifierParams
    from superpose.core.errors import SuperposeError
    from superpose.explainer.jobs import latest_failures
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.simulators import SimulatorContext, make_simulator
    from superpose.explainer.simulators.contrast import ContrastSimulator

    extra = judged_scorers(",".join(args.params.scorers)) if args.params.scorers else []
    judge_params = ClassifierParams(n_activating=args.params.judge_examples,
                                    n_non_activating=args.params.judge_examples, seed=args.params.seed)
    placement = args.placement
    given = Path(args.explanations)
    file = given / "explanations.jsonl" if given.is_dir() else given
    if not file.is_file():
        raise SuperposeError(f"{file} does not exist: pass the file written by `superpose explain` (or its folder)")
    records = args.records or (str(given) if given.is_dir() else str(given.parent))
    from superpose.cli.checks import check_units_of

    check_units_of(args.units, records=records, run=args.results)
    store = RecordStore(records)
    recorded = store.meta.get("units")
    if recorded and recorded.get("kind") != "concepts":
        raise SuperposeError(f"{records} holds records of SAE latents: compare's output side clamps units at the MLP "
                             "neurons (a neuron, or a concept's direction among them), and an SAE latent writes at "
                             "its own hook, so steering it is not supported; compare neurons or concepts, or read "
                             "these latents' topics and explanations with `superpose report --units`")
    if recorded and args.units is None:
        raise SuperposeError(f"{records} holds records of concepts: give the concept file they were made from "
                             f"with --units ({recorded.get('path')}), so compare can steer its concepts")
    units = None
    if recorded:
        from superpose.units.formats import load_sae

        units = load_sae(args.units)
    # The judge's verdicts are cached in the output folder, so a rerun asks nothing again.
    context = SimulatorContext(Backend(kind="local", model=args.model, placement=placement,
                                       cache=str(Path(args.out) / "llm-cache")), args.batch_size)
    simulator = make_simulator(args.simulator, context)
    if args.contrast:
        simulator = ContrastSimulator(simulator)
    source = store.meta.get("model_source") or store.model
    # The steering scorer keeps its tensors on the CPU (activations/steering.py): its model stays there in float32.
    lm = context.built_model()
    steered = lm if lm is not None and lm.name == store.model and placement.is_default else load_local_model(source)
    judge = judging(list(extra), context.backend, context, judge_params)
    out = compare(args.results, file, records, args.out, simulator=simulator,
                  steerer=Steerer(steered, params=args.steering, units=units), params=args.params,
                  progress=args.progress, judge=judge)
    print((out / "summary.md").read_text(encoding="utf-8"))
    print(f"table: {out / 'compare.csv'}")
    latest_failures(out / "scores.jsonl",
                    lambda r: (r.get("layer"), r.get("neuron"), r.get("explanation_id"))
                    ).check("score(s)")
    return 0


COMMANDS = [Command(("compare",), CompareArgs, run_compare)]
