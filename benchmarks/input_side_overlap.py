"""Input-side against output-side topics, per layer (issue 14 item 3).

Reads an input-side run (`superpose input-topics`) and the output-side topics of the same neurons
(a run's topics.csv.gz or .xz), and reports per layer: how many neurons have topics on each side,
and among those with topics on both, the share whose input topics share at least m words with an
output topic (m = 1 and 3 of k = 10), next to the chance level (each neuron's input topics against
the output topics of another neuron of the same layer, 200 random derangements: mean and 2.5-97.5%).
It also mines random pools of the same sizes drawn from the words of the layer's records (in the
corpus vocabulary) for a subset of neurons: the input side's own chance level of finding topics.

Usage:
  python benchmarks/input_side_overlap.py --input RUN/smollm2-135m/input \
      --output-topics results/smollm2-135m/hi-c/topics.csv.xz --out results/input_side
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import lzma
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from superpose.activations.formats import RecordStore
from superpose.activations.top_words import WordSegmenter, neuron_words
from superpose.config import MiningConfig
from superpose.core.provenance import versions
from superpose.corpus.store import load_corpus
from superpose.input_side import side_overlap
from superpose.mining.pool import mine_pool
from superpose.mining.store import read_bulk


def read_topics(path: Path) -> list[dict[str, str]]:
    opener = lzma.open if path.suffix == ".xz" else gzip.open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def topic_sets(rows, polarities, units=None) -> dict[tuple[int, int], list[frozenset[str]]]:
    out: dict[tuple[int, int], list[frozenset[str]]] = defaultdict(list)
    for r in rows:
        key = (int(r["layer"]), int(r["neuron"]))
        if r["polarity"] in polarities and (units is None or key in units):
            out[key].append(frozenset(r["words"].split()))
    return out


def random_baseline(run: Path, request: dict, every: int, seed: int) -> dict:
    """Random pools from the words of each layer's records (in the vocabulary), same sizes as pos pools."""
    counts = load_corpus(request["corpus"]["path"], mmap=True)
    params = MiningConfig.from_json(request["params"])
    store = RecordStore(request["records"])
    seg = WordSegmenter(store)
    pools = {(int(r["layer"]), int(r["neuron"])): int(r["pool_size"]) for r in read_bulk(run / "pools.csv.gz")
             if r["polarity"] == "pos"}
    rng = np.random.default_rng(seed)
    result: dict[int, dict] = {}
    for layer in sorted({ly for ly, _ in pools}):
        neurons = sorted(n for ly, n in pools if ly == layer)[::every]
        universe = set()
        for n in neurons:
            universe |= {w.word for w in neuron_words(store, layer, n, top=None, segmenter=seg)}
        ids = np.asarray(sorted(counts.index[w] for w in universe if w in counts.index))
        found, scores, own_found, own_scores = [], [], [], []
        for n in neurons:
            pool = rng.choice(ids, size=min(pools[(layer, n)], len(ids)), replace=False)
            topics = mine_pool(pool, counts, params).topics
            found.append(len(topics))
            scores.extend(t.score for t in topics)
            # the neuron's own record words in random order: same documents, no activation ranking
            own = np.asarray(sorted({counts.index[w.word] for w in neuron_words(store, layer, n, top=None,
                                                                                 segmenter=seg)
                                     if w.word in counts.index}))
            pool = rng.choice(own, size=min(pools[(layer, n)], len(own)), replace=False)
            topics = mine_pool(pool, counts, params).topics
            own_found.append(len(topics))
            own_scores.extend(t.score for t in topics)
        result[layer] = {"pools": len(neurons), "universe_words": int(len(ids)),
                         "share_with_topic": float(np.mean([f > 0 for f in found])),
                         "topics_per_pool": float(np.mean(found)),
                         "mean_npmi": float(np.mean(scores)) if scores else None,
                         "own_words_share_with_topic": float(np.mean([f > 0 for f in own_found])),
                         "own_words_topics_per_pool": float(np.mean(own_found)),
                         "own_words_mean_npmi": float(np.mean(own_scores)) if own_scores else None}
    return result


def pooled_overlap(inp, out, min_shared: int, seed: int, shuffles: int = 200) -> dict:
    """All layers together: observed count of neurons sharing a topic, and the same count when each
    layer's neurons meet another neuron's output topics (a derangement per layer and shuffle)."""
    rng = np.random.default_rng(seed)
    layers = sorted({ly for ly, _ in inp})
    groups = {ly: sorted(n for (l2, n) in inp if l2 == ly and inp[(l2, n)] and out.get((l2, n))) for ly in layers}

    def hit(layer, a, b):
        return max((len(x & y) for x in inp[(layer, a)] for y in out[(layer, b)]), default=0) >= min_shared

    observed = sum(hit(ly, n, n) for ly in layers for n in groups[ly])
    counts = []
    for _ in range(shuffles):
        total = 0
        for ly in layers:
            both = groups[ly]
            if len(both) < 2:
                continue
            perm = rng.permutation(len(both))
            while np.any(perm == np.arange(len(both))):
                perm = rng.permutation(len(both))
            total += sum(hit(ly, n, both[j]) for n, j in zip(both, perm, strict=True))
        counts.append(total)
    n = sum(len(g) for g in groups.values())
    counts = np.asarray(counts)
    return {"neurons": n, "shared_count": int(observed), "shared": observed / n,
            "chance_mean": float(counts.mean() / n), "chance_lo": float(np.quantile(counts, 0.025) / n),
            "chance_hi": float(np.quantile(counts, 0.975) / n),
            "shuffles_at_or_above": float(np.mean(counts >= observed)), "shuffles": shuffles}


def mined_stats(run: Path) -> dict[int, dict]:
    pools = read_bulk(run / "pools.csv.gz")
    topics = read_bulk(run / "topics.csv.gz")
    out = {}
    for layer in sorted({int(p["layer"]) for p in pools}):
        pos = [p for p in pools if int(p["layer"]) == layer and p["polarity"] == "pos"]
        scores = [float(t["score"]) for t in topics if int(t["layer"]) == layer and t["polarity"] == "pos"]
        out[layer] = {"pools": len(pos), "mean_pool_size": float(np.mean([int(p["pool_size"]) for p in pos])),
                      "share_with_topic": float(np.mean([int(p["topics"]) > 0 for p in pos])),
                      "topics_per_pool": float(np.mean([int(p["topics"]) for p in pos])),
                      "mean_npmi": float(np.mean(scores)) if scores else None}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", required=True, type=Path, help="input-side run folder (.../input)")
    ap.add_argument("--output-topics", required=True, type=Path, help="output-side topics.csv.gz or .xz")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--baseline-every", type=int, default=8, help="random pools for every n-th mined neuron")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    started = time.perf_counter()
    request = json.loads((args.input / "run.json").read_text())["request"]
    inp_rows = read_bulk(args.input / "topics.csv.gz")
    units = {(int(r["layer"]), int(r["neuron"])) for r in read_bulk(args.input / "pools.csv.gz")}
    out_rows = read_topics(args.output_topics)
    inp = topic_sets(inp_rows, {"pos"}, units)
    for key in units:
        inp.setdefault(key, [])
    table = {}
    for side in ("pos", "neg", "any"):
        out = topic_sets(out_rows, {"pos", "neg"} if side == "any" else {side}, units)
        table[side] = {m: side_overlap(inp, out, min_shared=m, seed=args.seed) for m in (1, 3)}
    pooled = {side: {m: pooled_overlap(inp, topic_sets(out_rows, {"pos", "neg"} if side == "any" else {side},
                                                         units), m, args.seed) for m in (1, 3)}
              for side in ("pos", "any")}
    result = {"pooled": pooled, "request": request, "output_topics": str(args.output_topics),
              "mined": mined_stats(args.input),
              "random": random_baseline(args.input, request, args.baseline_every, args.seed),
              "overlap": table, "versions": versions(), "seconds": round(time.perf_counter() - started, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "overlap.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    lines = ["# Input-side and output-side topics of SmolLM2-135M neurons", "",
             f"Records: {request['records_meta']}; input pools of at most {request['pool_size']} words; "
             f"output side: {args.output_topics} (Hi-C).", "",
             "## Input-side mining (pos pools: top activating words) against random pools", "",
             "Random A: words drawn from the records of the layer's sampled neurons; random B: each neuron's own "
             "record words in random order (same documents, no activation ranking). Same pool sizes.", "",
             "| layer | pools | mean pool size | share with a topic | topics per pool | mean NPMI | random: pools | "
             "A: share | A: topics per pool | A: mean NPMI | B: share | B: topics per pool | B: mean NPMI |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for layer, m in result["mined"].items():
        r = result["random"][layer]
        lines.append(f"| {layer} | {m['pools']} | {m['mean_pool_size']:.0f} | {m['share_with_topic']:.1%} | "
                     f"{m['topics_per_pool']:.2f} | {fmt(m['mean_npmi'])} | {r['pools']} | "
                     f"{r['share_with_topic']:.1%} | {r['topics_per_pool']:.2f} | {fmt(r['mean_npmi'])} | "
                     f"{r['own_words_share_with_topic']:.1%} | {r['own_words_topics_per_pool']:.2f} | "
                     f"{fmt(r['own_words_mean_npmi'])} |")
    for side in ("pos", "any"):
        for m in (1, 3):
            lines += ["", f"## Shared topics: input pos against output {side}, at least {m} shared word(s)", "",
                      "| layer | neurons with topics on both sides | share that share a topic | chance (shuffled "
                      "neurons) mean [2.5%, 97.5%] |", "|---|---|---|---|"]
            for row in table[side][m]:
                if not row["neurons_both"]:
                    lines.append(f"| {row['layer']} | 0 | | |")
                    continue
                lines.append(f"| {row['layer']} | {row['neurons_both']} | {row['shared']:.1%} "
                             f"({row['shared_count']}) | {row['chance_mean']:.1%} [{row['chance_lo']:.1%}, "
                             f"{row['chance_hi']:.1%}] |")
    lines += ["", "## All layers together", "",
              "| output side | shared words | neurons | share that share a topic | chance mean [2.5%, 97.5%] | "
              "shuffles at or above |", "|---|---|---|---|---|---|"]
    for side in ("pos", "any"):
        for m in (1, 3):
            p = pooled[side][m]
            lines.append(f"| {side} | >= {m} | {p['neurons']} | {p['shared']:.2%} ({p['shared_count']}) | "
                         f"{p['chance_mean']:.2%} [{p['chance_lo']:.2%}, {p['chance_hi']:.2%}] | "
                         f"{p['shuffles_at_or_above']:.1%} |")
    (args.out / "overlap.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def fmt(value) -> str:
    return "" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
