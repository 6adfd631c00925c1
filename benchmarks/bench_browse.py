"""Browse and search a whole model: report size and speed in headless Chromium, word-search latency.

1. ``--report DIR``: the report's size on disk and files; in headless Chromium (file://, no
   server) the time to first contentful paint and to the first table of the index, then the time
   to a filtered view (a layer) and to a word search, and the time to draw a neuron page.
2. ``--synthetic-units N``: a synthetic run of N units (LLaMA-7B: 32 layers x 11,008 = 352,256)
   with the topic counts of the SmolLM2 run (4.35 per unit-polarity pair on average, 10 words from
   a Zipf vocabulary of 30,000 words), written as shards; its report is measured as in 1, and its
   word index is built and searched, in process, after the index is built: 200 random words alone,
   and 200 random pairs of the first 200 words of the index's (sorted) vocabulary, with all and
   with any (in the synthetic run those are the 200 most frequent words: the longest postings).
   ``--search-run RUN`` does the same on a real run.

Writes JSON to ``--json``. Timings on a shared machine are pessimistic.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from harness import machine, write_result


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def measure_report(report: Path, words: list[str], neuron: str) -> dict:
    from superpose.report.browser import chromium, console_errors, open_page

    size, files = folder_size(report)
    out: dict = {"bytes": size, "files": files}
    with chromium(1400, 900) as driver:
        started = time.perf_counter()
        open_page(driver, report / "index.html")
        out["index_load_s"] = round(time.perf_counter() - started, 3)
        paint = driver.execute_script(
            "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null")
        out["first_contentful_paint_ms"] = paint
        out["first_table_ms"] = driver.execute_script("return SP.timing.firstTable")
        while not driver.execute_script("return SP.timing.best"):
            time.sleep(0.005)
        out["best_topics_drawn_ms"] = driver.execute_script("return SP.timing.best")
        out["rows_in_document"] = driver.execute_script("return document.querySelectorAll('#neurons tbody tr').length")
        pick = "document.getElementById('layer-filter').selectedIndex = %d; SP.apply();"
        for name, script in (("filter_layer", pick % 2), ("filter_reset", pick % 0)):
            started = time.perf_counter()
            driver.execute_script("SP.timing.filtered = null;" + script)
            while driver.execute_script("return SP.timing.filtered") is None:
                time.sleep(0.005)
            out[f"{name}_s"] = round(time.perf_counter() - started, 3)
        for label, query in (("search_first", words[0]), ("search_again", " ".join(words[:2]))):
            started = time.perf_counter()
            driver.execute_script("SP.timing.filtered = null; document.getElementById('filter').value = arguments[0];"
                                  " SP.apply();", query)
            while driver.execute_script("return SP.timing.filtered") is None:
                time.sleep(0.005)
            out[f"{label}_s"] = round(time.perf_counter() - started, 3)
            out[f"{label}_rows"] = driver.execute_script("return document.getElementById('shown').textContent")
        started = time.perf_counter()
        open_page(driver, f"{report / 'neuron.html'}#{neuron}")
        while not driver.execute_script("return SP.timing && SP.timing.rendered"):
            time.sleep(0.005)
        out["neuron_page_s"] = round(time.perf_counter() - started, 3)
        out["console_errors"] = console_errors(driver)
    return out


def synthetic_run(folder: Path, units: int, layers: int, seed: int = 0) -> Path:
    """Shards of a synthetic run: per unit-polarity a Poisson number of topics (mean as SmolLM2's)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i:05d}" for i in range(30_000)])
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    per_layer = units // layers
    run = folder / "synthetic-7b" / "hi-c"
    (run / "shards").mkdir(parents=True, exist_ok=True)
    (run / "run.json").write_text(json.dumps({"format": "superpose-mine", "finished": "synthetic", "request": {
        "model": "synthetic-7b", "model_source": "synthetic", "mode": "hi-c", "layers": f"0-{layers - 1}",
        "neurons": f"0-{per_layer - 1}", "tau": 900, "layout": "shards",
        "params": {"theta_l": 0.1, "theta_u": 1.0, "kappa_l": 10, "kappa_u": 24, "k": 10}, "corpus": {}}}))
    for layer in range(layers):
        neuron = np.repeat(np.arange(per_layer), 2)
        polarity = np.tile(np.array(["pos", "neg"]), per_layer)
        counts = rng.poisson(np.where(polarity == "pos", 8.1, 0.55))
        rows = np.repeat(np.arange(len(neuron)), counts)
        rank = np.concatenate([np.arange(c) for c in counts]) if len(rows) else np.zeros(0, int)
        words = rng.choice(len(vocab), size=(len(rows), 10), p=weights)
        text = [" ".join(sorted(set(vocab[w].tolist()))) for w in words]
        score = np.sort(rng.normal(-0.05, 0.1, len(rows)))[::-1]
        topics = pa.table({"model": ["synthetic-7b"] * len(rows), "mode": ["hi-c"] * len(rows),
                           "layer": np.full(len(rows), layer), "neuron": neuron[rows], "polarity": polarity[rows],
                           "rank": rank, "words": text, "score": score, "status": ["optimal"] * len(rows),
                           "gap": np.zeros(len(rows)), "never_cooccur": np.zeros(len(rows), int)})
        pools = pa.table({"model": ["synthetic-7b"] * len(neuron), "mode": ["hi-c"] * len(neuron),
                          "layer": np.full(len(neuron), layer), "neuron": neuron, "polarity": polarity,
                          "pool_size": np.full(len(neuron), 500), "isets": counts, "topics": counts,
                          "pool_words": [""] * len(neuron), "iset_words": [""] * len(neuron)})
        pq.write_table(topics, run / "shards" / f"layer_{layer:02d}_topics.parquet")
        pq.write_table(pools, run / "shards" / f"layer_{layer:02d}_pools.parquet")
    return run


def measure_search(run: Path, index_dir: Path, seed: int = 1) -> dict:
    from superpose.mining.search import WordIndex

    started = time.perf_counter()
    index = WordIndex(run, index_dir)
    build = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    vocab = np.asarray(index.arrays["vocab"])
    singles = rng.choice(vocab, 200).tolist()
    pairs = [rng.choice(vocab[:200], 2).tolist() for _ in range(200)]  # synthetic: the 200 most frequent words
    out = {"topics": int(len(index.arrays["score"])), "words": int(len(vocab)), "build_s": round(build, 2)}
    cases = (("single_word", [[w] for w in singles], "all"), ("two_words_all", pairs, "all"),
             ("two_words_any", pairs, "any"))
    for name, queries, match in cases:
        times = []
        for query in queries:
            started = time.perf_counter()
            WordIndex(run, index_dir).search(query, match, limit=20)  # opened anew: the CLI's cost without start-up
            times.append(time.perf_counter() - started)
        out[name] = {"median_ms": round(1000 * float(np.median(times)), 2),
                     "max_ms": round(1000 * float(np.max(times)), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report", type=Path, help="a built report folder to measure")
    parser.add_argument("--words", default="planet,mars", help="words to search in the report")
    parser.add_argument("--neuron", default="L16_N1094")
    parser.add_argument("--search-run", type=Path, help="a run whose word index to build and search")
    parser.add_argument("--synthetic-units", type=int, default=0)
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--skip-search", action="store_true", help="synthetic run: measure the report only")
    parser.add_argument("--work", type=Path, default=Path("/tmp/superpose-bench-browse"))
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    start = machine()
    result: dict = {"load_average": start["load_average"]}
    if args.report:
        result["report"] = measure_report(args.report, args.words.split(","), args.neuron)
    if args.search_run:
        result["search"] = measure_search(args.search_run, args.work / "real-index")
    if args.synthetic_units:
        from superpose.report import build_report

        started = time.perf_counter()
        run = synthetic_run(args.work, args.synthetic_units, args.layers)
        result["synthetic"] = {"units": args.synthetic_units, "layers": args.layers,
                               "write_s": round(time.perf_counter() - started, 1)}
        if not args.skip_search:
            result["synthetic"]["search"] = measure_search(run, args.work / "index")
        started = time.perf_counter()
        report = build_report(run, args.work / "report")
        result["synthetic"]["report_build_s"] = round(time.perf_counter() - started, 1)
        result["synthetic"]["report"] = measure_report(report, ["w00003", "w00010"], "L5_N100")
    write_result(args.json, result, start=start)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
