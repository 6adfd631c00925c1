"""Benchmark: building the default reference corpus, against gensim's c_npmi accumulator.

Measures, each in its own process so peak memory (ru_maxrss) is per measurement:
  1. building the default corpus (read + count; wall time and peak memory);
  2. the same with the default corpus's documents repeated 10 times (memory must not grow
     beyond the count matrix);
  3. counting alone on the same tokenised text and vocabulary, ours against gensim's
     WordOccurrenceAccumulator (the engine of CoherenceModel(coherence="c_npmi")), raw windows,
     on the first --gensim-tokens tokens (gensim counts ~40k tokens/s, so a subset).
Writes results/bench_corpus.json and prints a table.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from harness import machine, parser, run_child, write_result

from superpose.config import ExecutionConfig

PARAMS = dict(window=10, windowing="filtered", min_count=10, stopwords="remove", min_length=3)


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def child_build(repeat: int, workers: int) -> dict:
    """Build the default corpus repeated ``repeat`` times; the minimum count scales with it,
    so the vocabulary (and the count matrix's shape) stays that of one copy."""
    from superpose.corpus.build import CorpusParams, build_corpus
    from superpose.corpus.sources import Source, resolve_sources

    base = resolve_sources(["default"])

    def read_repeated(_path: Path):
        for _ in range(repeat):
            for source in base:
                yield from source.documents()

    source = Source(f"default-x{repeat}", "builtin", "", None, None, read_repeated)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        params = CorpusParams(**dict(PARAMS, min_count=PARAMS["min_count"] * repeat))
        counts = build_corpus([source], Path(tmp) / "c", params, workers=workers)
        wall = time.perf_counter() - started
    return {"repeat": repeat, "workers": workers, "wall_s": round(wall, 2), "read_s": counts.meta["seconds"]["read"],
            "count_s": counts.meta["seconds"]["count"], "peak_mb": round(peak_mb()),
            "worker_peak_mb": round(peak_mb(resource.RUSAGE_CHILDREN)) if workers > 1 else None,
            "tokens": counts.meta["tokens"], "vocab": len(counts.vocab), "windows": counts.n_windows,
            "pair_nonzeros": int(counts.pair_windows.nnz)}


def child_versus_gensim(max_tokens: int) -> dict:
    from gensim.corpora import Dictionary
    from gensim.topic_coherence.text_analysis import WordOccurrenceAccumulator

    from superpose.corpus.build import CorpusParams, choose_vocabulary
    from superpose.corpus.counting import count_windows
    from superpose.corpus.sources import iter_documents
    from superpose.corpus.tokenize import tokenize

    # the vocabulary is the full default corpus's; the counted text is its first max_tokens tokens
    texts, total, all_texts = [], 0, []
    for doc in iter_documents("default"):
        words = tokenize(doc)
        if words:
            all_texts.append(words)
            if total < max_tokens:
                texts.append(words)
                total += len(words)
    dictionary = Dictionary(all_texts)
    del all_texts
    frequency = np.zeros(len(dictionary), dtype=np.int64)
    for word_id, count in dictionary.cfs.items():
        frequency[word_id] = count
    words = [dictionary[i] for i in range(len(dictionary))]
    keep = choose_vocabulary(words, frequency, CorpusParams(**PARAMS))
    relevant = set(keep)

    started = time.perf_counter()
    gensim_acc = WordOccurrenceAccumulator(relevant, dictionary).accumulate(texts, PARAMS["window"])
    gensim_s = time.perf_counter() - started

    started = time.perf_counter()
    remap = np.full(len(words), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    token2id = dictionary.token2id
    tokens = remap[np.fromiter((token2id[w] for t in texts for w in t), dtype=np.int64, count=total)]
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in texts])])
    n_windows, word_windows, pairs = count_windows(tokens, offsets, PARAMS["window"], len(keep))
    ours_s = time.perf_counter() - started

    # gensim's incremental window can only lose a word whose other copy is still inside the
    # window, so its counts never exceed the exact ones; they are equal for most words.
    theirs = np.array([int(gensim_acc[w]) for w in keep])
    return {"tokens": total, "vocab": len(keep), "gensim_s": round(gensim_s, 2), "ours_s": round(ours_s, 3),
            "speedup": round(gensim_s / ours_s, 1), "gensim_tokens_per_s": round(total / gensim_s),
            "same_window_count": int(gensim_acc.num_docs) == n_windows,
            "gensim_never_above_exact": bool(np.all(theirs <= word_windows)),
            "word_counts_equal_share": round(float(np.mean(theirs == word_windows)), 4)}


def child(args: list[str]) -> dict:
    """This benchmark in ``--child`` form, in a process of its own."""
    return run_child([sys.executable, __file__, *args])[0]


def main() -> None:
    ap = parser(__doc__, "results/bench_corpus.json", workers=True)
    ap.add_argument("--child", choices=["build", "gensim"])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--gensim-tokens", type=int, default=400_000)
    args = ap.parse_args()
    args.workers = ExecutionConfig(workers=args.workers).workers
    if args.child == "build":
        print(json.dumps(child_build(args.repeat, args.workers)))
        return
    if args.child == "gensim":
        print(json.dumps(child_versus_gensim(args.gensim_tokens)))
        return
    start = machine()
    results = {"params": PARAMS,
               "build_x1": child(["--child", "build", "--repeat", "1", "--workers", str(args.workers)]),
               "build_x10": child(["--child", "build", "--repeat", "10", "--workers", str(args.workers)]),
               "versus_gensim": child(["--child", "gensim", "--gensim-tokens", str(args.gensim_tokens)])}
    for key in ("build_x1", "build_x10"):
        r = results[key]
        print(f"{key}: {r['tokens']:,} tokens, vocab {r['vocab']:,}: wall {r['wall_s']} s "
              f"(read {r['read_s']} s, count {r['count_s']} s), peak {r['peak_mb']} MB "
              f"(each worker {r['worker_peak_mb']} MB)")
    ratio = results["build_x10"]["peak_mb"] / results["build_x1"]["peak_mb"]
    results["peak_ratio_x10_x1"] = round(ratio, 3)
    write_result(args.out, results, start=start)
    print(f"peak memory x10 / x1: {ratio:.2f} (goal <= 1.2)")
    g = results["versus_gensim"]
    print(f"counting {g['tokens']:,} tokens, vocab {g['vocab']:,}: gensim {g['gensim_s']} s, ours {g['ours_s']} s, "
          f"{g['speedup']}x; same number of windows: {g['same_window_count']}; gensim never above exact: "
          f"{g['gensim_never_above_exact']}; word counts equal for {g['word_counts_equal_share']:.1%} of words")


if __name__ == "__main__":
    main()
