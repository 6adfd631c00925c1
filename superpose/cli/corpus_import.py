"""CLI: import the paper's own published reference (PreferredAI/topic-metrics) as a corpus folder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from superpose.cli.args import Command, option
from superpose.core.errors import SuperposeError


@dataclass
class CorpusImportArgs:
    """Import a published reference as a corpus folder (see docs/reference-corpus.md).

    --format npmi-matrix: Lim & Lauw's dense NPMI matrix (--npmi wiki_npmi_wsz10_mf100.npy,
    float16) with its --vocab vocab2id.pkl; the matrix stays where it is and is memory-mapped by
    coherence, mine, baseline and the API. --format topic-metrics: the count tree that
    topic-metrics writes (--counts DIR with histogram.csv, {W}/single.pkl, {W}/joint/{id}.pkl)
    for --window W, stored as our counts under the lim-lauw convention, NPMI the reference's for
    min_freq --min-windows. Pickles are read as data only (dicts of strings and numbers).
    """

    format: Literal["npmi-matrix", "topic-metrics"] = option("what is imported")
    vocab: str = option("the vocab2id.pkl published with it (a pickled dict word -> row)", metavar="PKL")
    out: str = option("output corpus folder (written atomically)", metavar="DIR")
    npmi: str | None = option("npmi-matrix: the NPMI matrix (.npy)", None, metavar="NPY")
    counts: str | None = option("topic-metrics: the counts folder (holds histogram.csv)", None, metavar="DIR")
    window: int | None = option("topic-metrics: the window size the counts were made with", None, metavar="W")
    min_windows: int | None = option("topic-metrics: the reference's min_freq (default 0)", None, metavar="F")
    overwrite: bool = option("replace a non-empty --out", False)


def run_import(args: CorpusImportArgs) -> int:
    from superpose.cli.corpus import format_info
    from superpose.corpus.reference_import import import_npmi_matrix, import_topic_metrics

    if args.format == "npmi-matrix":
        extra = [name for name, value in (("--counts", args.counts), ("--window", args.window),
                                          ("--min-windows", args.min_windows)) if value is not None]
        if args.npmi is None:
            raise SuperposeError("--format npmi-matrix needs --npmi FILE.npy (and --vocab VOCAB2ID.pkl)")
        if extra:
            raise SuperposeError(f"--format npmi-matrix takes no {', '.join(extra)}: the matrix has its window and "
                                 "min_freq built in; drop them")
        import_npmi_matrix(args.npmi, args.vocab, args.out, overwrite=args.overwrite)
    else:
        if args.counts is None or args.window is None or args.npmi is not None:
            raise SuperposeError("--format topic-metrics takes --counts DIR, --window W and --vocab (and optionally "
                                 "--min-windows), not --npmi")
        import_topic_metrics(args.counts, args.vocab, args.window, args.out,
                             min_windows=args.min_windows or 0, overwrite=args.overwrite)
    from superpose.corpus.store import read_meta

    print(format_info(read_meta(args.out), args.out))
    return 0


COMMANDS = [Command(("corpus", "import"), CorpusImportArgs, run_import)]
