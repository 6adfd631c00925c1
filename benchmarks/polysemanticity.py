"""Do neurons with several disjoint topics respond to more dispersed tokens? (issue 14 item 4)

For each neuron of the chosen layers: its number of output-side topics (both polarities; the
topics of a pool are disjoint word sets) from a mining run's topic table, and the mean
polysemanticity score (`superpose dispersion`: share of a token's k nearest neighbours in the
layer's residual space that are other tokens) of the tokens it responds to: the token at the peak
of each of its top activation records, weighted by how often it is that peak, over the tokens that
have a score. Reported per layer: Spearman's rho between topic count and dispersion, the mean
dispersion of the neurons in the top quartile of topic count minus that of the bottom quartile
(nearly every neuron has two or more topics, so "several topics" is read as "more than most"), each with a
95% bootstrap interval (2000 resamples of neurons), and the same pooled over layers (rho within
layers averaged, resampling neurons within each layer).

Usage:
  python benchmarks/polysemanticity.py --records R --dispersion D --topics T --layers 3,9,15,21,27 --out DIR
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import lzma
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from superpose.activations.dispersion import read_dispersion
from superpose.activations.formats import RecordStore
from superpose.core.provenance import versions


def topic_counts(path: Path, layers: set[int]) -> Counter:
    opener = lzma.open if path.suffix == ".xz" else gzip.open
    counts: Counter = Counter()
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if int(r["layer"]) in layers:
                counts[(int(r["layer"]), int(r["neuron"]))] += 1
    return counts


def neuron_dispersion(store: RecordStore, layer: int, scores: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron: mean score of its peak tokens (nan without any scored one) and the share scored."""
    rec = store.layer(layer)
    n = rec.mean.shape[0]
    value, covered = np.full(n, np.nan), np.zeros(n)
    peaks = rec.top_acts.argmax(axis=1)  # (k, N)
    for neuron in range(n):
        tokens = [int(store.sequences[s, p]) for s, p in zip(rec.top_ids[:, neuron], peaks[:, neuron], strict=True)
                  if s >= 0]
        scored = [scores[t].other_share for t in tokens if t in scores]
        if scored:
            value[neuron] = float(np.mean(scored))
        covered[neuron] = len(scored) / max(len(tokens), 1)
    return value, covered


def stats(topics: np.ndarray, disp: np.ndarray, rng: np.random.Generator, reps: int = 2000) -> dict:
    def rho(t, d):
        return float(spearmanr(t, d).statistic) if np.ptp(t) > 0 and np.ptp(d) > 0 else float("nan")

    high, low = np.quantile(topics, 0.75), np.quantile(topics, 0.25)

    def diff(t, d):
        many, few = d[t >= high], d[t <= low]
        return float(many.mean() - few.mean()) if len(many) and len(few) else float("nan")

    boot_rho, boot_diff = [], []
    for _ in range(reps):
        idx = rng.integers(0, len(topics), len(topics))
        boot_rho.append(rho(topics[idx], disp[idx]))
        boot_diff.append(diff(topics[idx], disp[idx]))
    return {"neurons": int(len(topics)), "rho": rho(topics, disp),
            "rho_ci": [float(np.nanquantile(boot_rho, 0.025)), float(np.nanquantile(boot_rho, 0.975))],
            "many_minus_few": diff(topics, disp),
            "many_minus_few_ci": [float(np.nanquantile(boot_diff, 0.025)), float(np.nanquantile(boot_diff, 0.975))],
            "neurons_2plus_topics": int((topics >= 2).sum()), "neurons_0_1_topics": int((topics <= 1).sum()),
            "quartile_topics": [float(low), float(high)], "neurons_top_quartile": int((topics >= high).sum()),
            "neurons_bottom_quartile": int((topics <= low).sum()),
            "mean_topics": float(topics.mean()), "mean_dispersion": float(disp.mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", required=True, type=Path)
    ap.add_argument("--dispersion", required=True, type=Path, help="folder written by `superpose dispersion`")
    ap.add_argument("--topics", required=True, type=Path, help="output-side topics.csv.gz or .xz")
    ap.add_argument("--layers", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    layers = [int(x) for x in args.layers.split(",")]
    rng = np.random.default_rng(args.seed)
    store = RecordStore(args.records)
    counts = topic_counts(args.topics, set(layers))
    per_layer, pooled = {}, []
    for layer in layers:
        scores = read_dispersion(args.dispersion / f"dispersion_{layer:02d}.csv")
        disp, covered = neuron_dispersion(store, layer, scores)
        topics = np.array([counts.get((layer, n), 0) for n in range(len(disp))], dtype=float)
        ok = ~np.isnan(disp)
        per_layer[layer] = dict(stats(topics[ok], disp[ok], rng), scored_tokens=len(scores),
                                neurons_without_scored_peak=int((~ok).sum()),
                                mean_peak_coverage=float(covered.mean()))
        pooled.append((topics[ok], disp[ok]))
    boot = []
    for _ in range(2000):
        values = []
        for t, d in pooled:
            idx = rng.integers(0, len(t), len(t))
            values.append(spearmanr(t[idx], d[idx]).statistic)
        boot.append(float(np.mean(values)))
    mean_rho = float(np.mean([per_layer[ly]["rho"] for ly in layers]))
    meta = json.loads((args.dispersion / "dispersion.json").read_text())
    result = {"layers": per_layer, "mean_within_layer_rho": mean_rho,
              "mean_within_layer_rho_ci": [float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))],
              "dispersion": meta["params"], "records": str(args.records), "topics": str(args.topics),
              "versions": versions()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "polysemanticity.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    lines = ["# Topic count against token dispersion (SmolLM2-135M)", "",
             f"Dispersion: {meta['params']}. Topics: {args.topics}.", "",
             "| layer | neurons | mean topics | 2+ topics | Spearman rho [95% CI] | dispersion: top minus bottom "
             "quartile of topic count [95% CI] | mean dispersion | peak tokens scored |",
             "|---|---|---|---|---|---|---|---|"]
    for layer in layers:
        s = per_layer[layer]
        lines.append(f"| {layer} | {s['neurons']} | {s['mean_topics']:.2f} | {s['neurons_2plus_topics']} | "
                     f"{s['rho']:+.3f} [{s['rho_ci'][0]:+.3f}, {s['rho_ci'][1]:+.3f}] | {s['many_minus_few']:+.4f} "
                     f"[{s['many_minus_few_ci'][0]:+.4f}, {s['many_minus_few_ci'][1]:+.4f}] (>= "
                     f"{s['quartile_topics'][1]:g} vs <= {s['quartile_topics'][0]:g} topics) | "
                     f"{s['mean_dispersion']:.3f} | {s['mean_peak_coverage']:.0%} |")
    lo, hi = result["mean_within_layer_rho_ci"]
    lines += ["", f"Mean within-layer rho: {mean_rho:+.3f} [{lo:+.3f}, {hi:+.3f}]"]
    (args.out / "polysemanticity.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
