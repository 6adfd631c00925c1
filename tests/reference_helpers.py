"""Files in the layouts PreferredAI/topic-metrics publishes, written from text by brute force.

The layouts (read in the topic-metrics code): ``histogram.csv`` holds ``length,lines`` rows (lines
per whitespace-token count, no header, no final newline); ``{window}/single.pkl`` a dict id ->
windows containing the word; ``{window}/joint/{id}.pkl`` a dict id -> windows containing both
(only counts above 0; the word's own entry is its single count); the counts are numpy int64
scalars, as the reference's shared count array gives them; ``vocab2id.pkl`` a dict word -> id
over the alphabetically sorted vocabulary. The NPMI matrix is the reference's ``npmi`` of those
counts for one ``min_freq`` (diagonal included), as float16 like the published files.
"""

from __future__ import annotations

import itertools
import math
import pickle
from collections import Counter
from pathlib import Path

import numpy as np


def reference_counts(text_path: Path, vocab: list[str], window: int):
    """Lines per whitespace length, windows per word and per pair, enumerated window by window
    over each line's whitespace tokens that are in ``vocab``."""
    index = {w: i for i, w in enumerate(vocab)}
    histogram: Counter[int] = Counter()
    single = np.zeros(len(vocab), dtype=np.int64)
    joint = np.zeros((len(vocab), len(vocab)), dtype=np.int64)
    with open(text_path, encoding="utf-8") as fh:
        for line in fh:
            raw = line.rstrip().split()
            histogram[len(raw)] += 1
            kept = [index[w] for w in raw if w in index]
            spans = [kept] if len(kept) <= window else [kept[s:s + window] for s in range(len(kept) - window + 1)]
            for span in spans:
                present = sorted(set(span))
                for a in present:
                    single[a] += 1
                for a, b in itertools.permutations(present, 2):
                    joint[a, b] += 1
    return histogram, single, joint


def n_windows(histogram: Counter[int], window: int) -> int:
    return sum(lines * max(1, length - window + 1) for length, lines in histogram.items())


def reference_npmi(single: np.ndarray, joint: np.ndarray, windows: int, min_freq: int) -> np.ndarray:
    """The reference's NPMI of every pair, its own diagonal included (float64)."""
    def probability(count: int) -> float:
        return count / windows if count >= min_freq else 0.0

    size = len(single)
    out = np.zeros((size, size))
    for a in range(size):
        for b in range(size):
            both = single[a] if a == b else joint[a, b]
            p_ab, p_a, p_b = probability(both) + 1e-12, probability(single[a]), probability(single[b])
            out[a, b] = 0.0 if p_a == 0 or p_b == 0 else math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)
    return out


def write_topic_metrics(text_path: Path, vocab: list[str], window: int, folder: Path) -> Path:
    """The count tree of ``text_path`` over the alphabetical ``vocab``; returns vocab2id.pkl's path."""
    vocab = sorted(vocab)
    histogram, single, joint = reference_counts(text_path, vocab, window)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "histogram.csv").write_text("\n".join(f"{length},{lines}" for length, lines in histogram.items()))
    (folder / str(window) / "joint").mkdir(parents=True)
    with open(folder / str(window) / "single.pkl", "wb") as fh:
        pickle.dump(dict(enumerate(single)), fh)
    np.fill_diagonal(joint, single)
    for row in range(len(vocab)):
        with open(folder / str(window) / "joint" / f"{row}.pkl", "wb") as fh:
            pickle.dump({col: value for col, value in enumerate(joint[row]) if value > 0}, fh)
    path = folder / "vocab2id.pkl"
    with open(path, "wb") as fh:
        pickle.dump({w: i for i, w in enumerate(vocab)}, fh)
    return path


def write_npmi_matrix(text_path: Path, vocab: list[str], window: int, min_freq: int, folder: Path,
                      dtype: str = "float16") -> tuple[Path, Path]:
    """The published form: the NPMI matrix (.npy) and vocab2id.pkl, alphabetical vocabulary."""
    vocab = sorted(vocab)
    histogram, single, joint = reference_counts(text_path, vocab, window)
    matrix = reference_npmi(single, joint, n_windows(histogram, window), min_freq).astype(dtype)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"npmi_wsz{window}_mf{min_freq}.npy", matrix)
    with open(folder / "vocab2id.pkl", "wb") as fh:
        pickle.dump({w: i for i, w in enumerate(vocab)}, fh)
    return folder / f"npmi_wsz{window}_mf{min_freq}.npy", folder / "vocab2id.pkl"
