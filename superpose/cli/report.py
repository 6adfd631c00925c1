"""CLI: the static HTML report of a mining run and its LLM explanations."""

from __future__ import annotations

from dataclasses import dataclass

from superpose.cli.args import Command, option


@dataclass
class ReportArgs:
    """Write a static HTML report that opens from disk (no server, no network).

    Reads the run in any layout (per-unit files, bulk tables .gz/.xz/Parquet, per-layer shards).
    An index page with a paged table of every unit (sorted and filtered over the whole run in
    the browser), a word search over every topic, figures of mined against random topics, layer
    overviews and recurring topics; one neuron page (neuron.html#L{layer}_N{neuron}) drawn from
    per-layer data files: positive and negative topics, shortlisted sets, pool, LLM explanation
    and scores, records as token heatmaps, the layer's random baseline. What inputs units lack is
    said once per report. Inputs of different models or corpora are refused. Layout:
    docs/report.md. The committed run: superpose report --results results/smollm2-135m/hi-c
    --out report.
    """

    results: str = option("mining run folder, {out}/{model}/{mode} (`superpose mine`)", metavar="DIR")
    out: str = option("report folder to write (replaced as a whole when the report succeeds)", metavar="DIR")
    explanations: str | None = option("explanation and score JSON lines (`superpose explain` / `score`): a file or "
                                      "a folder of .jsonl files", None, metavar="FILE|DIR")
    records: str | None = option("activation-records folder of the model (`superpose activations`)", None,
                                 metavar="DIR")
    compare: str | None = option("compare table CSV (`superpose compare`)", None, metavar="FILE")
    max_neurons: int | None = option("report at most N neurons, the first by layer and neuron", None, metavar="N")
    input: list[str] = option("an input for a report section of another module, NAME=PATH; repeat for several",
                              default_factory=list, metavar="NAME=PATH")
    units: str | None = option("the units of the run and records (an SAE folder or a concept file): checked "
                               "against their metadata", None, metavar="PATH")
    progress: bool = option("show a progress bar (one step per layer)", True)


def run_report(args: ReportArgs) -> int:
    from superpose.cli.checks import check_units_of
    from superpose.core.errors import SuperposeError
    from superpose.report import build_report

    check_units_of(args.units, records=args.records, run=args.results)

    extra = {}
    for item in args.input or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SuperposeError(f"--input {item!r} is not NAME=PATH (for example --input top-words=words.csv)")
        extra[name] = path
    out = build_report(args.results, args.out, explanations=args.explanations, records=args.records,
                       compare=args.compare, max_neurons=args.max_neurons, extra=extra,
                       progress=args.progress)
    print(f"report: {out / 'index.html'}")
    return 0


COMMANDS = [Command(("report",), ReportArgs, run_report)]
