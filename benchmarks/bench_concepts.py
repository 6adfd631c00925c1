"""Benchmark: topics of learned concepts against neurons, SAE latents and random directions.

For each layer (SmolLM2 3, 15, 27 by default): the neuron activations of --tokens tokens of
--source text (News Articles 2017: disjoint from the reference corpus that scores NPMI), split by
sequence (10% held out, seed 0); --n concepts per method (nmf, semi-nmf, ica, pca, kmeans) written as
concept files (reconstruction and sparsity on the held-out tokens, fit time); for every concept a
random direction of the same norm (a Gaussian direction in neuron space, mapped through the down
projection and rescaled to the concept's output norm). All directions of a layer are mined in one
run (Hi-C, tau 900, default mining parameters, the default corpus): one units file holding every
method's rows and the random rows, so the model and corpus load once per layer (a unit's pools and
topics depend only on its direction). Neurons: the committed full run (results/smollm2-135m/hi-c,
same corpus and parameters, checked). SAE latents: every --sae-every-th latent of the small top-k
SAE of layer 15 (benchmarks/train_sae.py, the recipe of results/sae_l15), mined here on the same corpus.

Statistics per pool (a unit and a polarity; pos and neg together): topics per pool, and the mean
NPMI of a pool's topics (pools with a topic). Differences of means with percentile bootstrap
intervals (--boot resamples of the pools of each set, seed --seed): 95%, and for the primary
comparison (each method minus random, all layers) also the Bonferroni-adjusted interval for the
five methods (1 - 0.05/5 = 99%), since picking the best of five is a multiple comparison. Writes
--out (JSON, under the benchmark harness's header: machine, load, versions, argv) and the table
next to it (.md).

Usage (at --n 100 the fits of one layer take about 8 CPU minutes, mining it about half a minute; a
layer's concept files are kept in --work, so a stopped run resumes from the methods it has fitted):
  nice -n 10 python benchmarks/bench_concepts.py --n 100 --work work/bench_concepts_n100 [--sae work/sae-l15]
"""

from __future__ import annotations

import csv
import gzip
import json
import lzma
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from harness import machine, parser, write_result

from superpose.concepts.fit import fit_and_write, neuron_activations, output_directions, split_activations
from superpose.config import CONCEPT_METHODS, CompareParams, ConceptConfig, ProjectionConfig
from superpose.core.fileio import write_json_atomic, write_text_atomic
from superpose.core.provenance import package_version, versions
from superpose.units.concepts import read_concepts, save_concepts

POLARITIES = ("pos", "neg")
ALPHA = 0.05
BONFERRONI = 1 - ALPHA / len(CONCEPT_METHODS)  # the primary comparison's family: every method against random


def bootstrap_diff(a: np.ndarray, b: np.ndarray, reps: int, seed: int, adjusted: bool = False) -> dict:
    """Mean of ``a`` minus mean of ``b`` with a 95% percentile interval (each resampled on its own);
    ``adjusted`` adds the Bonferroni interval (``lo_adj``, ``hi_adj``) at :data:`BONFERRONI` from the
    same resamples."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) == 0 or len(b) == 0:
        return {"diff": None, "lo": None, "hi": None, **({"lo_adj": None, "hi_adj": None} if adjusted else {})}
    rng = np.random.default_rng(seed)
    diffs = (rng.choice(a, (reps, len(a))).mean(1) - rng.choice(b, (reps, len(b))).mean(1))
    out = {"diff": float(a.mean() - b.mean()), "lo": float(np.quantile(diffs, ALPHA / 2)),
           "hi": float(np.quantile(diffs, 1 - ALPHA / 2))}
    if adjusted:
        tail = (1 - BONFERRONI) / 2
        out.update(level_adj=BONFERRONI, lo_adj=float(np.quantile(diffs, tail)),
                   hi_adj=float(np.quantile(diffs, 1 - tail)))
    return out


def bootstrap_mean(a: np.ndarray, reps: int, seed: int) -> dict:
    a = np.asarray(a, float)
    if len(a) == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    means = np.random.default_rng(seed).choice(a, (reps, len(a))).mean(1)
    return {"mean": float(a.mean()), "lo": float(np.quantile(means, 0.025)),
            "hi": float(np.quantile(means, 0.975)), "n": int(len(a))}


def _open(path: Path):
    return lzma.open(path, "rt") if path.suffix == ".xz" else gzip.open(path, "rt")


def read_run(folder: Path, layer: int, units: set[int] | None = None) -> dict[tuple[int, str], dict]:
    """Per (unit, polarity): topics in the pool and the NPMI of each topic, from a mining run folder."""
    pools: dict[tuple[int, str], dict] = {}
    with _open(folder / "pools.csv.gz") as fh:
        for row in csv.DictReader(fh):
            if int(row["layer"]) == layer and (units is None or int(row["neuron"]) in units):
                pools[(int(row["neuron"]), row["polarity"])] = {"topics": int(row["topics"]), "npmi": []}
    topics = folder / "topics.csv.gz"
    topics = topics if topics.exists() else folder / "topics.csv.xz"
    with _open(topics) as fh:
        for row in csv.DictReader(fh):
            key = (int(row["neuron"]), row["polarity"])
            if int(row["layer"]) == layer and key in pools:
                pools[key]["npmi"].append(float(row["score"]))
    return pools


def pool_stats(pools: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Topics per pool, and the mean topic NPMI of each pool with a topic."""
    counts = np.array([p["topics"] for p in pools], float)
    npmi = np.array([np.mean(p["npmi"]) for p in pools if p["npmi"]], float)
    return counts, npmi


def fit_layer(lm, layer: int, args, work: Path) -> dict:
    """Concept files of every method for ``layer`` and the layer's combined units file for mining."""
    from superpose.activations.collect import cut_sequences
    from superpose.corpus.sources import iter_documents

    combined = work / f"bench-l{layer}.npz"
    info_path = work / f"fit-l{layer}.json"
    wanted = {"n": args.n, "tokens": args.tokens, "seed": args.seed, "max_iter": args.max_iter,
              "sources": list(args.source)}
    if combined.exists() and info_path.exists():
        info = json.loads(info_path.read_text())
        if info.get("settings") != wanted:
            raise SystemExit(f"{info_path} was fitted with {info.get('settings')}, not {wanted}: choose another --work")
        return info
    start = time.perf_counter()
    docs = (d for s in args.source for d in iter_documents(s))
    sequences = cut_sequences(lm.tokenizer, docs, 64, args.tokens)
    acts = neuron_activations(lm, sequences, layer, batch_size=16)
    seconds_acts = time.perf_counter() - start
    info = {"layer": layer, "tokens": int(sequences.size), "seconds_activations": round(seconds_acts, 1),
            "settings": wanted, "methods": {}}
    rows, directions, sets = [], [], {}
    rng = np.random.default_rng(args.seed + layer)
    for method in CONCEPT_METHODS:
        config = ConceptConfig(method=method, n=args.n, max_tokens=args.tokens, seed=args.seed,
                               max_iter=args.max_iter)
        train, test = split_activations(acts, config)
        t0 = time.perf_counter()
        path = work / f"concepts-l{layer}-{method}.npz"
        earlier = read_concepts(path) if path.exists() else None
        if earlier is not None and earlier.meta.get("params") == asdict(config) \
                and earlier.meta["corpus"]["sources"] == list(args.source):  # a resumed run: fitted already
            units, meta, seconds = earlier, earlier.meta, None
        else:
            path, meta = fit_and_write(lm, layer, config, train, test, path,
                                       corpus={"sources": list(args.source), "n_sequences": int(len(sequences))})
            units, seconds = read_concepts(path), round(time.perf_counter() - t0, 1)
        info["methods"][method] = {"file": str(path), "seconds_fit": seconds, "reused": seconds is None,
                                   "held_out": meta["metrics"]["held_out"], "fit": meta["fit"]}
        print(f"layer {layer} {method}: held-out FVU {meta['metrics']['held_out']['fvu']:.4f}, "
              f"L0 {meta['metrics']['held_out']['l0']:.2f}, {info['methods'][method]['seconds_fit']} s", flush=True)
        offset = sum(len(r) for r in rows)
        sets[method] = [offset, offset + units.d_sae]
        rows.append(units.concepts.numpy())
        directions.append(units.W_dec.numpy())
    for method in CONCEPT_METHODS:  # random rows matched one to one to each method's norms
        lo, hi = sets[method]
        target = np.linalg.norm(np.concatenate(directions)[lo:hi], axis=1)
        raw = rng.standard_normal((hi - lo, lm.n_neurons)).astype(np.float32)
        raw /= np.linalg.norm(raw, axis=1, keepdims=True)
        out = output_directions(lm, layer, raw)
        out *= (target / np.linalg.norm(out, axis=1))[:, None]
        offset = sum(len(r) for r in rows)
        sets[f"random-{method}"] = [offset, offset + len(raw)]
        rows.append(raw)
        directions.append(out.astype(np.float32))
    concepts = np.concatenate(rows)
    save_concepts(combined, concepts=concepts, directions=np.concatenate(directions),
                  center=np.zeros(lm.n_neurons, np.float32), scales=np.ones(len(concepts), np.float32),
                  encoder=concepts.T,
                  meta={"name": f"bench-l{layer}", "model": lm.name, "layer": layer, "method": "random",
                        "note": "benchmark file: every method's concept rows and the matched random rows, "
                                "mined together; only the directions are used", "sets": sets})
    info["sets"] = sets
    write_json_atomic(info_path, info)
    return info


def main() -> None:
    start = machine()
    ap = parser(__doc__, "results/bench_concepts.json", model=True, threads=1)
    ap.add_argument("--layers", default="3,15,27")
    ap.add_argument("--n", type=int, default=ConceptConfig.n, help="concepts per method (default: %(default)s)")
    ap.add_argument("--tokens", type=int, default=32768, help="tokens read, training plus held out")
    ap.add_argument("--source", action="append", default=None, help="corpus source(s) of the fit (default: news)")
    ap.add_argument("--max-iter", type=int, default=ConceptConfig.max_iter)
    ap.add_argument("--corpus", default="corpus/build/default")
    ap.add_argument("--neurons-run", default="results/smollm2-135m/hi-c")
    ap.add_argument("--sae", default=None, help="SAELens folder of the layer-15 SAE (benchmarks/train_sae.py)")
    ap.add_argument("--sae-every", type=int, default=4)
    ap.add_argument("--work", default="work/bench_concepts")
    ap.add_argument("--boot", type=int, default=CompareParams.bootstrap)
    ap.add_argument("--seed", type=int, default=ConceptConfig.seed)
    args = ap.parse_args()
    args.source = args.source or ["news"]
    out = Path(args.out)
    if out.suffix != ".json":
        raise SystemExit(f"--out {out} must end in .json (the table goes next to it as .md)")
    ConceptConfig(method=CONCEPT_METHODS[0], n=args.n, max_tokens=args.tokens, seed=args.seed,
                  max_iter=args.max_iter)  # refuse bad values before loading anything
    torch.set_num_threads(args.threads)
    from superpose.models import load_model
    from superpose.pipeline import mine

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    layers = [int(x) for x in args.layers.split(",")]
    lm = load_model(args.model)
    started = time.perf_counter()
    fits = {layer: fit_layer(lm, layer, args, work) for layer in layers}
    neuron_run = Path(args.neurons_run)
    neuron_request = json.loads((neuron_run / "run.json").read_text())["request"]
    result: dict = {"benchmark": "bench_concepts",
                    "versions": {**versions(), "scikit-learn": package_version("scikit-learn")},
                    "params": {k: v for k, v in vars(args).items()}, "layers": {},
                    "analysis_plan": "primary: each method minus random in topics per pool over all layers, 95% "
                                     f"interval and Bonferroni-adjusted {BONFERRONI:.0%} interval for "
                                     f"{len(CONCEPT_METHODS)} methods; a method beats random when the adjusted "
                                     "interval is above zero"}
    t_mine = time.perf_counter()
    runs = {}
    for layer in layers:
        runs[layer] = mine(args.model, args.corpus, str(work / "mine"),
                           projection=ProjectionConfig(sae=str(work / f"bench-l{layer}.npz")), progress=False)
    sae_run = None
    if args.sae:
        sae_run = mine(args.model, args.corpus, str(work / "mine"), projection=ProjectionConfig(sae=args.sae),
                       neurons=f"0-1535/{args.sae_every}", progress=False)
    result["seconds_mining"] = round(time.perf_counter() - t_mine, 1)
    request = json.loads((runs[layers[0]] / "run.json").read_text())["request"]
    same = (request["corpus"]["n_windows"] == neuron_request["corpus"]["n_windows"]
            and request["params"] == neuron_request["params"] and request["tau"] == neuron_request["tau"])
    result["neurons_run_comparable"] = same
    rows_md = []
    everywhere: dict[str, list[dict]] = {}
    for layer in layers:
        sets = fits[layer]["sets"]
        mined = read_run(runs[layer], layer)
        groups: dict[str, list[dict]] = {}
        for name, (lo, hi) in sets.items():
            groups[name] = [mined[(u, p)] for u in range(lo, hi) for p in POLARITIES if (u, p) in mined]
        groups["random"] = [p for m in CONCEPT_METHODS for p in groups[f"random-{m}"]]
        groups["neurons"] = list(read_run(neuron_run, layer).values())
        if sae_run is not None and layer == 15:
            groups["sae"] = list(read_run(sae_run, layer).values())
        for name, pools in groups.items():
            everywhere.setdefault(name, []).extend(pools)
        stats = {}
        for name, pools in groups.items():
            counts, npmi = pool_stats(pools)
            stats[name] = {"pools": len(pools), "share_with_topic": float((counts > 0).mean()) if len(counts) else None,
                           "topics_per_pool": bootstrap_mean(counts, args.boot, args.seed),
                           "pool_npmi": bootstrap_mean(npmi, args.boot, args.seed)}
        vs = {}
        for method in CONCEPT_METHODS:
            c_counts, c_npmi = pool_stats(groups[method])
            vs[method] = {}
            for other in ["random", f"random-{method}", "neurons"] + (["sae"] if "sae" in groups else []):
                o_counts, o_npmi = pool_stats(groups[other])
                vs[method][other] = {"topics_per_pool": bootstrap_diff(c_counts, o_counts, args.boot, args.seed),
                                     "pool_npmi": bootstrap_diff(c_npmi, o_npmi, args.boot, args.seed)}
        result["layers"][str(layer)] = {"fit": fits[layer], "stats": stats, "vs": vs}
        for name in list(CONCEPT_METHODS) + ["random", "neurons"] + (["sae"] if "sae" in groups else []):
            s = stats[name]
            held = fits[layer]["methods"].get(name, {}).get("held_out", {})
            d = vs.get(name, {}).get("random", {}).get("topics_per_pool", {})
            dn = vs.get(name, {}).get("random", {}).get("pool_npmi", {})
            tpp, npm = s["topics_per_pool"], s["pool_npmi"]
            rows_md.append(
                f"| {layer} | {name} | {s['pools']} | {tpp['mean']:.2f} [{tpp['lo']:.2f}, {tpp['hi']:.2f}] | "
                + (f"{npm['mean']:+.3f}" if npm["mean"] is not None else "-") + " | "
                + (f"{d['diff']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}]" if d.get("diff") is not None else "") + " | "
                + (f"{dn['diff']:+.3f} [{dn['lo']:+.3f}, {dn['hi']:+.3f}]" if dn.get("diff") is not None else "")
                + " | " + (f"{held['fvu']:.3f}" if held else "") + " | " + (f"{held['l0']:.1f}" if held else "") + " |")
    random_counts, random_npmi = pool_stats(everywhere["random"])
    result["all_layers"] = {}
    primary = []
    for name in list(CONCEPT_METHODS) + ["neurons"]:
        counts, npmi = pool_stats(everywhere[name])
        d = bootstrap_diff(counts, random_counts, args.boot, args.seed, adjusted=True)
        dn = bootstrap_diff(npmi, random_npmi, args.boot, args.seed, adjusted=True)
        tpp = bootstrap_mean(counts, args.boot, args.seed)
        result["all_layers"][name] = {"pools": len(counts), "topics_per_pool": tpp,
                                      "minus_random": {"topics_per_pool": d, "pool_npmi": dn}}
        rows_md.append(f"| all | {name} | {len(counts)} | {tpp['mean']:.2f} [{tpp['lo']:.2f}, {tpp['hi']:.2f}] | "
                       f"{np.mean(npmi):+.3f} | {d['diff']:+.2f} [{d['lo']:+.2f}, {d['hi']:+.2f}] | "
                       f"{dn['diff']:+.3f} [{dn['lo']:+.3f}, {dn['hi']:+.3f}] | | |")
        if name in CONCEPT_METHODS:
            primary.append(f"| {name} | {len(counts)} | {d['diff']:+.2f} | [{d['lo']:+.2f}, {d['hi']:+.2f}] | "
                           f"[{d['lo_adj']:+.2f}, {d['hi_adj']:+.2f}] | "
                           + ("yes" if d["lo_adj"] > 0 else "no") + " |")
    counts, _ = pool_stats(everywhere["random"])
    result["all_layers"]["random"] = {"pools": len(counts), "topics_per_pool": bootstrap_mean(counts, args.boot,
                                                                                               args.seed)}
    result["beats_random"] = [m for m in CONCEPT_METHODS
                              if result["all_layers"][m]["minus_random"]["topics_per_pool"]["lo_adj"] > 0]
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    header = ("| layer | units | pools | topics per pool [95% CI] | mean pool NPMI | minus random: topics per pool "
              "[95% CI] | minus random: NPMI [95% CI] | held-out FVU | held-out L0 |\n"
              "|---|---|---|---|---|---|---|---|---|")
    primary_header = (f"Primary comparison: topics per pool, method minus random, all layers "
                      f"({len(everywhere['random'])} random pools)\n\n"
                      f"| method | pools | minus random | 95% CI | Bonferroni {BONFERRONI:.0%} CI | beats random |\n"
                      "|---|---|---|---|---|---|")
    table = header + "\n" + "\n".join(rows_md) + "\n\n" + primary_header + "\n" + "\n".join(primary) + "\n"
    write_result(out, result, start=start)
    write_text_atomic(out.with_suffix(".md"), table)
    print(table)


if __name__ == "__main__":
    main()
