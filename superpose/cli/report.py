"""CLI: the static HTML report of a mining run and its LLM explanations."""

from __future__ import annotations

from dataclasses import dataclass

from superpose.cli.args import Command, option


@dataclass
class ReportArgs:
    """Write a static HTML report that opens from disk (no server, no network).

    An index page with a sortable, filterable table of neurons (topics, NPMI, LLM explanation
    scores) and figures of mined against random topics; one page per neuron with its positive and
    negative topics, shortlisted sets, pool, LLM explanation and scores, top-activating and random
    records as token heatmaps, and its layer's random baseline. Neurons present in one input but
    not another are shown with what they miss. Inputs of different models or corpora are refused.
    Layout: docs/report.md.
    """

    results: str = option("mining run folder, {out}/{model}/{mode} (`superpose mine`)", metavar="DIR")
    out: str = option("report folder to write (replaced as a whole when the report succeeds)", metavar="DIR")
    explanations: str | None = option("explanation and score JSON lines (`superpose explain` / `score`): a file or "
                                      "a folder of .jsonl files", None, metavar="FILE|DIR")
    records: str | None = option("activation-records folder of the model (`superpose activations`)", None,
                                 metavar="DIR")
    compare: str | None = option("compare table CSV (`superpose compare`)", None, metavar="FILE")
    max_neurons: int | None = option("report at most N neurons, the first by layer and neuron", None, metavar="N")


def run_report(args: ReportArgs) -> int:
    from superpose.report import build_report

    out = build_report(args.results, args.out, explanations=args.explanations, records=args.records,
                       compare=args.compare, max_neurons=args.max_neurons)
    print(f"report: {out / 'index.html'}")
    return 0


COMMANDS = [Command(("report",), ReportArgs, run_report)]
