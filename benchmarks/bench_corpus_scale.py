"""Benchmark: Wikipedia-size corpus builds, on synthetic inputs this script generates.

Inputs (written to --work, deleted afterwards unless --keep):
  plain.txt        >= --mb MB of plain text, one document per line: the default corpus's
                   documents (markup removed) cycled;
  plain.parquet    the same documents in a string column ``text``;
  dump.xml.bz2     a MediaWiki XML dump of >= --mb MB of XML: the real markup of gensim's
                   106-article Wikipedia excerpt cycled, each copy a page of its own;
  dump-multistream.xml.bz2 (+ -index.txt.bz2)  the same XML as Wikipedia ships it: one bz2
                   stream per 100 pages, with the index of stream offsets.

Measurements, each in its own process (peak memory is per measurement):
  * ``superpose corpus build`` end to end (read + count, default vocabulary settings) on each
    input with 1 and with 2 tokenising workers: wall time, CPU time (process + workers),
    tokens/s, tokens/s per worker, peak memory of the parent and of the largest worker. The plain
    text builds run ``--repeats`` times, alternating 1 and 2 workers (a busy moment then hits
    both); its rows are the runs of median wall time, every run's wall time is kept, and
    ``plain_text_scaling`` gives the ratio of the medians and of each pair of runs;
  * today's reading path for wiki markup before this change (gensim's ``filter_wiki`` in one
    process: decompress, parse, filter, tokenise) on the first --baseline-mb MB of the dump;
  * the sequential parts that bound any number of workers: decompressing and parsing the dump
    alone, reading plain lines alone; and per build the CPU of the parent (reading: the id
    mapping; counting: laying the merged blocks end to end) and of the workers, per pass, and
    the wall time of the two steps between and after the passes, which only the parent does:
    choosing the vocabulary (``vocabulary_s``) and writing the corpus folder and reading it
    back (``write_s``: the build's wall time less its passes and the vocabulary).
Writes results/bench_corpus_scale.json and prints a table with the estimates for the full
English Wikipedia (about 4B tokens).
"""

from __future__ import annotations

import bz2
import json
import re
import resource
import shutil
import sys
import time
from pathlib import Path

from harness import hwm_mb, load_average, machine, parser, run_child, write_result

WIKIPEDIA_TOKENS = 4_000_000_000
HEAD = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10">\n'
        "  <siteinfo><sitename>Synthetic</sitename></siteinfo>\n")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def generate(work: Path, mb: int, parquet: bool = True) -> dict:
    """Write the inputs (the Parquet file only if ``parquet``); return their sizes."""
    from gensim.corpora.wikicorpus import extract_pages

    from superpose.corpus.sources import resolve_sources

    target = mb * 1_000_000
    work.mkdir(parents=True, exist_ok=True)
    docs = [" ".join(d.split()) for s in resolve_sources(["default"]) for d in s.documents()]
    docs = [d for d in docs if d]
    written, n_docs = 0, 0
    with open(work / "plain.txt", "w", encoding="utf-8") as out:
        while written < target:
            for doc in docs:
                out.write(doc + "\n")
                written += len(doc.encode()) + 1
                n_docs += 1
                if written >= target:
                    break
    if parquet:
        write_parquet(work / "plain.txt", work / "plain.parquet")
    source = resolve_sources(["gensim-wiki"])[0]
    with bz2.open(source.path, "rb") as fh:
        pages = [(title, text) for title, text, _ in extract_pages(fh) if text]
    compressor = bz2.BZ2Compressor(9)
    xml_bytes, page_id = 0, 0
    with open(work / "dump.xml.bz2", "wb") as out:
        out.write(compressor.compress(HEAD.encode()))
        while xml_bytes < target:
            for title, text in pages:
                page_id += 1
                page = (f"  <page><title>{_escape(title)} {page_id}</title><ns>0</ns><id>{page_id}</id>"
                        f"<revision><id>{page_id}</id><text xml:space=\"preserve\">{_escape(text)}</text>"
                        "</revision></page>\n").encode()
                out.write(compressor.compress(page))
                xml_bytes += len(page)
                if xml_bytes >= target:
                    break
        out.write(compressor.compress(b"</mediawiki>\n"))
        out.write(compressor.flush())
    write_multistream(work / "dump.xml.bz2", work / "dump-multistream.xml.bz2")
    return {"plain_txt_mb": round((work / "plain.txt").stat().st_size / 1e6, 1), "plain_documents": n_docs,
            "parquet_mb": round((work / "plain.parquet").stat().st_size / 1e6, 1) if parquet else None,
            "dump_xml_mb": round(xml_bytes / 1e6, 1), "dump_pages": page_id,
            "dump_bz2_mb": round((work / "dump.xml.bz2").stat().st_size / 1e6, 1),
            "dump_multistream_bz2_mb": round((work / "dump-multistream.xml.bz2").stat().st_size / 1e6, 1)}


def write_parquet(text: Path, out: Path) -> None:
    """The lines of ``text`` as a Parquet file with one string column ``text``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("text", pa.string())])
    with pq.ParquetWriter(out, schema) as writer, open(text, encoding="utf-8") as fh:
        batch: list[str] = []
        for line in fh:
            batch.append(line.rstrip("\n"))
            if len(batch) == 50_000:
                writer.write_table(pa.table({"text": batch}, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.table({"text": batch}, schema=schema))


def write_multistream(single: Path, out: Path, per_stream: int = 100) -> None:
    """Wikipedia's layout of the same XML: header, ``per_stream`` pages per bz2 stream, footer, and
    the index (``offset:page id:title`` per page). Page text is escaped, so ``<page>`` only starts pages."""
    with bz2.open(single, "rb") as fh:
        xml = fh.read()
    starts = [m.start() for m in re.finditer(rb"<page>", xml)]
    end = xml.rfind(b"</page>") + len(b"</page>\n")
    index = []
    with open(out, "wb") as fh:
        fh.write(bz2.compress(xml[: starts[0]]))
        for first in range(0, len(starts), per_stream):
            group = starts[first:first + per_stream + 1]
            stop = group[-1] if len(group) > per_stream else end
            index.extend(f"{fh.tell()}:{first + i + 1}:P{first + i + 1}\n" for i in range(min(per_stream, len(group))))
            fh.write(bz2.compress(xml[group[0]:stop]))
        fh.write(bz2.compress(xml[end:]))
    index_file = out.with_name(out.name[: -len(".xml.bz2")] + "-index.txt.bz2")
    index_file.write_bytes(bz2.compress("".join(index).encode()))


def _usage() -> dict:
    """CPU and peak memory. The parent's peak is VmHWM, which starts afresh at exec; ``ru_maxrss``
    carries the peak of the process that started this one across exec (the generator's, here).
    A forked worker's ``ru_maxrss`` starts at its parent's peak when it was forked, so
    ``worker_peak_mb`` is an upper bound."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
            "peak_mb": round(hwm_mb()), "worker_peak_mb": round(kids.ru_maxrss / 1024)}


def child_build(path: str, workers: int, out: str) -> dict:
    from superpose.corpus.build import build_corpus

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    counts = build_corpus([path], out, workers=workers, overwrite=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = _usage()
    meta = counts.meta
    tokens = meta["tokens"]
    shutil.rmtree(out)
    parent_read, parent_count = meta["cpu_seconds"]["read"], meta["cpu_seconds"]["count"]
    workers_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    seconds = meta["seconds"]
    row = {"input": Path(path).name, "workers": workers, "tokens": tokens, "documents": meta["documents"],
           "vocab": len(counts.vocab), "wall_s": round(wall, 2), "read_s": seconds["read"],
           "count_s": seconds["count"], "vocabulary_s": seconds.get("vocabulary", 0.0),  # 0: code before it was timed
           "write_s": round(wall - seconds["read"] - seconds.get("vocabulary", 0.0) - seconds["count"], 3),
           "parent_read_cpu_s": parent_read,
           "parent_read_main_thread_cpu_s": meta["cpu_seconds"]["read_main_thread"], "parent_count_cpu_s": parent_count,
           "workers_cpu_s": round(workers_cpu, 2),
           "read_workers_cpu_s": meta["cpu_seconds"]["read_workers"],
           "count_workers_cpu_s": meta["cpu_seconds"]["count_workers"],
           "tokens_per_s": round(tokens / wall), "tokens_per_s_per_worker": round(tokens / wall / workers),
           "tokens_per_cpu_s": round(tokens / (parent_read + parent_count + workers_cpu)),
           "peak_mb": usage["peak_mb"], "worker_peak_mb": usage["worker_peak_mb"] if workers > 1 else None}
    row["idle_estimate"] = {f"{cores}_cores_tokens_per_s": round(tokens / _idle_wall(row, cores)) for cores in (2, 32)}
    return row


def _idle_wall(row: dict, cores: int) -> float:
    """Wall time on ``cores`` free cores, from CPU times. Reading takes the longest of the
    parent's main thread (its sequential part), its decompressing thread (a single-stream dump),
    and all reading CPU spread over the cores; counting is the parent's part (sequential) plus
    the workers' CPU spread over the cores; choosing the vocabulary and writing the folder are
    sequential (their wall time as measured)."""
    return (_reading_wall(row, cores) + row["parent_count_cpu_s"] + row["count_workers_cpu_s"] / cores
            + row["vocabulary_s"] + row["write_s"])


def _reading_wall(row: dict, cores: int) -> float:
    main = row["parent_read_main_thread_cpu_s"]
    decompress = row["parent_read_cpu_s"] - main
    return max(main, decompress, (row["parent_read_cpu_s"] + row["read_workers_cpu_s"]) / cores)


def child_baseline(path: str, mb: int) -> dict:
    """The reading path before this change, in one process on the first ``mb`` MB of markup:
    bz2 decompressed in the reading thread, gensim's page extraction and ``filter_wiki``."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    from superpose.corpus.tokenize import tokenize

    started, cpu_started = time.perf_counter(), time.process_time()
    tokens = chars = 0
    with bz2.open(path, "rb") as fh:
        pages = (text for _title, text, _id in extract_pages(fh)
                 if text and text.lstrip()[:9].lower() != "#redirect")
        for text in pages:
            tokens += len(tokenize(filter_wiki(text)))
            chars += len(text)
            if chars >= mb * 1_000_000:
                break
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"markup_mb": round(chars / 1e6, 1), "tokens": tokens, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "tokens_per_s": round(tokens / wall), "tokens_per_cpu_s": round(tokens / cpu)}


def child_sequential(path: str) -> dict:
    """What the parent does alone: decompress + parse the dump, or read the plain lines."""
    from superpose.corpus.sources import read_text_lines, read_wikipedia_pages

    reader = read_wikipedia_pages if path.endswith(".xml.bz2") else read_text_lines
    started = time.perf_counter()
    chars = sum(len(doc) for doc in reader(Path(path)))
    wall = time.perf_counter() - started
    return {"input": Path(path).name, "chars": chars, "wall_s": round(wall, 2)}


def child(*args: str) -> dict:
    """This benchmark in ``--child`` form, in a process of its own."""
    return run_child([sys.executable, __file__, "--child", *args])[0]


def scaling(runs: dict[int, list[dict]]) -> dict:
    """Tokens/s of 2 workers over 1 worker: of the median runs (the rows kept), and of each pair of
    runs made one after the other (the spread says how much the machine's other load moved them)."""
    one, two = ([r["wall_s"] for r in runs[w]] for w in (1, 2))
    median = sorted(one)[(len(one) - 1) // 2] / sorted(two)[(len(two) - 1) // 2]
    return {"runs": len(one), "wall_s_1_worker": one, "wall_s_2_workers": two, "median_ratio": round(median, 3),
            "paired_ratios": [round(a / b, 3) for a, b in zip(one, two, strict=True)], "goal": ">= 1.8"}


def estimate(results: dict) -> dict:
    """Minutes for ~4B tokens of Wikipedia (the multistream dump, as it ships) on 2 and 32 free
    cores, from the CPU times of its 2-worker build (see ``_idle_wall``), with the sequential
    parts named; and the minutes measured here, on this machine."""
    wiki = next(r for r in results["builds"] if r["input"] == "dump-multistream.xml.bz2" and r["workers"] == 2)
    scale = WIKIPEDIA_TOKENS / wiki["tokens"]
    return {"input": wiki["input"], "2_cores_min": round(_idle_wall(wiki, 2) * scale / 60, 1),
            "32_cores_min": round(_idle_wall(wiki, 32) * scale / 60, 1),
            "measured_here_2_workers_min": round(wiki["wall_s"] * scale / 60, 1),
            "sequential_parts_min": {
                "parent_reading (stream offsets, id mapping, pages cut by a boundary)":
                    round(wiki["parent_read_main_thread_cpu_s"] * scale / 60, 1),
                "parent_counting (merged blocks laid end to end)": round(wiki["parent_count_cpu_s"] * scale / 60, 1),
                "vocabulary (chosen from the word counts)": round(wiki["vocabulary_s"] * scale / 60, 2),
                "writing the corpus folder and reading it back": round(wiki["write_s"] * scale / 60, 2)},
            "parallel_cpu_min": round((wiki["read_workers_cpu_s"] + wiki["count_workers_cpu_s"]) * scale / 60, 1)}


INPUTS = ("plain.txt", "plain.parquet", "dump.xml.bz2", "dump-multistream.xml.bz2")


def main() -> None:
    ap = parser(__doc__, "results/bench_corpus_scale.json")
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--mb", type=int, default=200, help="size of each synthetic input (MB of text / XML)")
    ap.add_argument("--baseline-mb", type=int, default=30, help="markup read by the old path")
    ap.add_argument("--work", default="corpus/build/bench-scale")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    ap.add_argument("--repeats", type=int, default=3, help="plain.txt builds per worker count (median kept)")
    ap.add_argument("--inputs", nargs="+", choices=INPUTS, default=list(INPUTS),
                    help="inputs to build (the Wikipedia estimate needs dump-multistream.xml.bz2)")
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {"build": lambda: child_build(rest[0], int(rest[1]), rest[2]),
                  "baseline": lambda: child_baseline(rest[0], int(rest[1])),
                  "sequential": lambda: child_sequential(rest[0])}[kind]()
        print(json.dumps(result))
        return
    work = Path(args.work)
    start = machine()
    started = time.perf_counter()
    results: dict = {"cores": start["cores_available"], "load_average_start": start["load_average"],
                     "inputs": generate(work, args.mb, parquet="plain.parquet" in args.inputs)}
    results["generate_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results["inputs"]), flush=True)
    results["baseline_gensim_filter"] = child("baseline", str(work / "dump.xml.bz2"), str(args.baseline_mb))
    print("baseline", json.dumps(results["baseline_gensim_filter"]), flush=True)
    results["sequential"] = [child("sequential", str(work / name)) for name in ("dump.xml.bz2", "plain.txt")]
    results["builds"] = []
    for name in args.inputs:
        runs: dict[int, list[dict]] = {1: [], 2: []}
        for _ in range(args.repeats if name == "plain.txt" else 1):
            for workers in (1, 2):
                row = child("build", str(work / name), str(workers), str(work / "corpus"))
                runs[workers].append(row)
                print(json.dumps(row), flush=True)
        for workers in (1, 2):
            row = sorted(runs[workers], key=lambda r: r["wall_s"])[(len(runs[workers]) - 1) // 2]
            results["builds"].append(dict(row, wall_s_runs=[r["wall_s"] for r in runs[workers]]))
        if name == "plain.txt":
            results["plain_text_scaling"] = scaling(runs)
    base = results["baseline_gensim_filter"]
    wiki2 = next((r for r in results["builds"] if r["input"] == "dump-multistream.xml.bz2" and r["workers"] == 2),
                 None)
    if wiki2 is not None:  # the Wikipedia figures scale the multistream dump's build
        read_2_cores = wiki2["tokens"] / _reading_wall(wiki2, 2)
        results["wiki_reading_speedup"] = {"input": wiki2["input"],
            "measured_wall_2_workers": round(wiki2["tokens"] / wiki2["read_s"] / base["tokens_per_s"], 2),
            "idle_2_cores_from_cpu": round(read_2_cores / base["tokens_per_cpu_s"], 2),
            "end_to_end_idle_2_cores_from_cpu": round(wiki2["idle_estimate"]["2_cores_tokens_per_s"]
                                                      / base["tokens_per_cpu_s"], 2)}
        results["wikipedia_estimate"] = estimate(results)
    results["load_average_end"] = load_average()
    write_result(args.out, results, start=start)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'input':<14} {'workers':>7} {'tokens':>12} {'wall s':>7} {'tok/s':>10} {'tok/CPU-s':>10} "
          f"{'idle 2 cores':>12} {'peak MB':>8} {'worker MB':>9}")
    for r in results["builds"]:
        print(f"{r['input']:<14} {r['workers']:>7} {r['tokens']:>12,} {r['wall_s']:>7} {r['tokens_per_s']:>10,} "
              f"{r['tokens_per_cpu_s']:>10,} {r['idle_estimate']['2_cores_tokens_per_s']:>12,} {r['peak_mb']:>8} "
              f"{r['worker_peak_mb'] or '-':>9}")
    if "plain_text_scaling" in results:
        print("plain text, 2 workers / 1 worker:", json.dumps(results["plain_text_scaling"]))
    if wiki2 is not None:
        print(f"old wiki reading path: {base['tokens_per_s']:,} tokens/s ({base['tokens_per_cpu_s']:,} per CPU-s); "
              f"new: {json.dumps(results['wiki_reading_speedup'])}")
        print("English Wikipedia (~4B tokens):", json.dumps(results["wikipedia_estimate"]))
    else:
        print("no multistream dump among --inputs: no Wikipedia estimate")


if __name__ == "__main__":
    main()
