"""CLI: score a run's topics as explanations next to the LLM's explanations of the same neurons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from superpose.cli.args import Command, option


@dataclass
class CompareArgs:
    """Compare topics with LLM explanations, scored by the same simulator on the same records.

    Each explained neuron's topics become explanation texts (per polarity: its best --max-topics
    topics; and each of those topics alone) and are scored like the LLM's explanation: correlation
    of simulated and true activations pooled over held-out tokens, calibrated R^2, embedding AUC.
    Writes OUT/compare.csv (and .csv.gz), OUT/layers.csv (per-layer aggregates), OUT/summary.md,
    OUT/scores.jsonl (every score; resumable) and OUT/compare.json (parameters and versions).
    """

    results: str = option("mining run folder, {out}/{model}/{mode} of `superpose mine`", metavar="DIR")
    explanations: str = option("explanations: the JSON-lines file of `superpose explain`, or the records "
                               "folder holding explanations.jsonl", metavar="PATH")
    out: str = option("output folder", metavar="DIR")
    records: str | None = option("activation records folder (default: the --explanations folder)", None,
                                 metavar="DIR")
    simulator: str = option("local simulator model (smollm2-135m, qwen2.5-coder-0.5b, folder)", "smollm2-135m",
                            metavar="NAME")
    max_topics: int = option("topics per polarity turned into explanations", 3, metavar="N")
    embedding: bool = option("also score with all-MiniLM-L6-v2 embeddings (AUC)", True)
    batch_size: int = option("sequences per simulator forward pass", 4, metavar="N")
    score_records: int = option("score on at most K top and K random records of each of the calibration and "
                                "held-out sets (0: all); fewer is faster and noisier", 0, metavar="K")
    threads: int | None = option("torch CPU threads", None, metavar="N")
    progress: bool = option("show progress bars", True)


def run_compare(args: CompareArgs) -> int:
    from superpose.compare import compare
    from superpose.core.errors import SuperposeError
    from superpose.llm.local_models import load_local_model
    from superpose.llm.simulate import AllAtOnceSimulator

    given = Path(args.explanations)
    file = given / "explanations.jsonl" if given.is_dir() else given
    if not file.is_file():
        raise SuperposeError(f"{file} does not exist: pass the file written by `superpose explain` (or its folder)")
    records = args.records or (str(given) if given.is_dir() else str(given.parent))
    lm = load_local_model(args.simulator, threads=args.threads)
    simulator = AllAtOnceSimulator(lm.model, lm.tokenizer, lm.name, args.batch_size)
    out = compare(args.results, file, records, args.out, simulator=simulator, max_topics=args.max_topics,
                  embedding=args.embedding, score_records=args.score_records, progress=args.progress)
    print((out / "summary.md").read_text(encoding="utf-8"))
    print(f"table: {out / 'compare.csv'}")
    return 0


COMMANDS = [Command(("compare",), CompareArgs, run_compare)]
