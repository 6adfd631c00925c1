"""Overviews of a whole run: per layer the most frequent topic words and the share of units with
a topic per polarity; across the run the topics that recur (the same word set found by several
units). Columnar (numpy and pyarrow), so a run of millions of topics takes seconds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from superpose.mining.store import RunReader


def layer_overview(reader: RunReader, top_words: int = 8) -> list[dict[str, Any]]:
    """Per layer: units, share of units with at least one topic per polarity, topics, frequent words."""
    pools, topics = reader.pools(), reader.topics()
    layer = pools["layer"].to_numpy()
    neuron = pools["neuron"].to_numpy()
    polarity = pools["polarity"].to_numpy(zero_copy_only=False)
    counts = pools["topics"].to_numpy()
    topic_layer = topics["layer"].to_numpy()
    words = topics["words"].to_numpy(zero_copy_only=False)
    rows = []
    for value in np.unique(layer).tolist():
        mask = layer == value
        shares = {}
        for pol in ("pos", "neg"):
            sel = mask & (polarity == pol)
            shares[pol] = float((counts[sel] > 0).mean()) if sel.any() else None
        frequent = Counter(w for text in words[topic_layer == value] for w in text.split()).most_common(top_words)
        rows.append({"layer": int(value), "units": int(len(np.unique(neuron[mask]))),
                     "share_pos": shares["pos"], "share_neg": shares["neg"],
                     "topics": int((topic_layer == value).sum()), "words": [[w, int(n)] for w, n in frequent]})
    return rows


def recurring_topics(reader: RunReader, top: int = 25, examples: int = 5) -> list[dict[str, Any]]:
    """Word sets found by at least two unit-polarities, most frequent first (ties: best NPMI)."""
    topics = reader.topics()
    if topics.num_rows == 0:
        return []
    words = topics["words"].to_numpy(zero_copy_only=False)
    names, inverse, counts = np.unique(words, return_inverse=True, return_counts=True)
    scores = topics["score"].to_numpy()
    best = np.full(len(names), -np.inf)
    np.maximum.at(best, inverse, scores)
    order = np.lexsort((-best, -counts))
    chosen = [int(i) for i in order[:top] if counts[i] >= 2]
    where = {i: [] for i in chosen}
    layer, neuron = topics["layer"].to_numpy(), topics["neuron"].to_numpy()
    polarity = topics["polarity"].to_numpy(zero_copy_only=False)
    for row in np.flatnonzero(np.isin(inverse, chosen)).tolist():
        found = where[int(inverse[row])]
        if len(found) < examples:
            found.append([int(layer[row]), int(neuron[row]), str(polarity[row])])
    return [{"words": str(names[i]).split(), "count": int(counts[i]), "best": float(best[i]), "units": where[i]}
            for i in chosen]
