"""What the lim-lauw convention changes numerically: windows, and the NPMI of real topics.

Scores a seeded sample of the committed run's topics (results/smollm2-135m/hi-c/topics.csv.xz)
on two corpus folders of the same sources and vocabulary settings, one built under each
convention, and reports the number of windows of each, the mean NPMI of the topics under
each, the mean shift, how many topics keep their score, and the rank correlation; and each
of the two differences alone (the number of windows; the minimum count on window counts). Writes
results/convention_shift.json and prints a Markdown table.

    python benchmarks/convention_shift.py --ours corpus/build/old-default \\
        --lim-lauw corpus/build/old-default-lim-lauw
"""

from __future__ import annotations

import argparse
import csv
import json
import lzma
import random
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from superpose.corpus.npmi import coherence, npmi_from_counts
from superpose.corpus.store import load_corpus


def read_topics(path: Path) -> list[list[str]]:
    with lzma.open(path, "rt", encoding="utf-8") as fh:
        return [row["words"].split() for row in csv.DictReader(fh)]


def topic_npmi(counts, words: list[str], n_windows: int, min_windows: int) -> float:
    """Mean NPMI of a topic's pairs with the given number of windows and minimum window count."""
    ids = np.asarray(counts.ids(words)[0])
    pair = counts.pair_windows[ids][:, ids].toarray()
    single = np.asarray(counts.word_windows, dtype=np.float64)[ids]
    matrix = npmi_from_counts(pair, single[:, None], single[None, :], n_windows, min_windows)
    return float(matrix[np.triu_indices(len(ids), k=1)].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", required=True, help="corpus folder, convention superpose")
    parser.add_argument("--lim-lauw", required=True, help="the same corpus, convention lim-lauw")
    parser.add_argument("--topics", default="results/smollm2-135m/hi-c/topics.csv.xz")
    parser.add_argument("--sample", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/convention_shift.json")
    args = parser.parse_args()

    ours, theirs = load_corpus(args.ours, mmap=True), load_corpus(args.lim_lauw, mmap=True)
    if ours.convention != "superpose" or theirs.convention != "lim-lauw":
        raise SystemExit("--ours must be a superpose corpus and --lim-lauw a lim-lauw one")
    if ours.vocab != theirs.vocab:
        raise SystemExit("the two corpora must have the same vocabulary (same sources and settings)")
    topics = read_topics(Path(args.topics))
    sample = random.Random(args.seed).sample(topics, min(args.sample, len(topics)))
    a, b, never_a, never_b, unknown = [], [], [], [], 0
    windows_only, min_count_only = [], []
    min_count = int(theirs.meta["min_count"])
    for words in sample:
        x, y = coherence(ours, words), coherence(theirs, words)
        if x.unknown:
            unknown += 1
            continue
        a.append(x.npmi)
        b.append(y.npmi)
        never_a.append(len(x.never_cooccur))
        never_b.append(len(y.never_cooccur))
        windows_only.append(topic_npmi(ours, words, theirs.n_windows, 0))
        min_count_only.append(topic_npmi(ours, words, ours.n_windows, min_count))
    a, b = np.array(a), np.array(b)
    shift = b - a
    result = {
        "corpus": {"ours": args.ours, "lim_lauw": args.lim_lauw, "sources": ours.meta["request"]["sources"],
                   "params": {k: ours.meta[k] for k in ("window", "min_count", "stopwords", "min_length")}},
        "windows": {"ours": ours.n_windows, "lim_lauw": theirs.n_windows,
                    "lim_lauw_filtered_stream": theirs.meta.get("filtered_windows")},
        "topics": {"file": args.topics, "sampled": len(sample), "seed": args.seed, "scored": len(a),
                   "skipped_unknown_words": unknown},
        "mean_npmi": {"ours": round(float(a.mean()), 4), "lim_lauw": round(float(b.mean()), 4)},
        "shift": {"mean": round(float(shift.mean()), 4), "std": round(float(shift.std()), 4),
                  "min": round(float(shift.min()), 4), "max": round(float(shift.max()), 4)},
        "shift_windows_only": round(float(np.mean(windows_only) - a.mean()), 4),
        "shift_min_count_only": round(float(np.mean(min_count_only) - a.mean()), 4),
        "same_score_share": round(float(np.mean(np.abs(shift) < 1e-9)), 4),
        "spearman": round(float(spearmanr(a, b).statistic), 4),
        "never_cooccur_pairs_per_topic": {"ours": round(float(np.mean(never_a)), 2),
                                          "lim_lauw": round(float(np.mean(never_b)), 2)},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
