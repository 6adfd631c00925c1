"""What `--pooling subtokens` (the reference code's SentencePiece rule) changes against the default
`whole-tokens` on a model and corpus: pool sizes, pool overlap, and mined topics on a sample.

Projects the chosen layers once (Hi-C, tau 900), builds both pools of every unit and polarity from
the same token ids, reports mean pool sizes and their Jaccard overlap, then mines every n-th
neuron's pools under both rules (default mining parameters) and reports the share of pools with a
topic, topics per pool, mean topic NPMI and the share of subtokens topics that are also whole-tokens
topics.

Usage:
  python benchmarks/pooling_compare.py --corpus corpus/build/default --layers 3,15,27 --every 16 \
      --out results/pooling_subtokens.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from superpose.config import MiningConfig, ProjectionConfig
from superpose.core.provenance import versions
from superpose.corpus.store import load_corpus
from superpose.mining.pool import mine_pool
from superpose.models import load_model
from superpose.projection.pools import SubtokenWords, TokenWords
from superpose.projection.project import project_layer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--layers", default="3,15,27")
    ap.add_argument("--every", type=int, default=16)
    ap.add_argument("--tau", type=int, default=ProjectionConfig.tau)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    started = time.perf_counter()
    counts = load_corpus(args.corpus, mmap=True)
    lm = load_model(args.model)
    whole = TokenWords.build(lm.tokenizer, counts.index, lm.vocab_size)
    sub = SubtokenWords.build(lm.tokenizer, counts.index, lm.vocab_size)
    config = MiningConfig()
    rows = {"whole-tokens": {"size": [], "with_topic": [], "topics": [], "scores": []},
            "subtokens": {"size": [], "with_topic": [], "topics": [], "scores": []}}
    jaccard, shared_topics, sub_topics = [], 0, 0
    for layer in [int(x) for x in args.layers.split(",")]:
        proj = project_layer(lm, "hi-c", layer, tau=args.tau)
        for row in range(len(proj.neurons)):
            for ids in (proj.top_ids[row], proj.bottom_ids[row]):
                a, b = whole.pool(ids), sub.pool(ids)
                rows["whole-tokens"]["size"].append(len(a))
                rows["subtokens"]["size"].append(len(b))
                union = len(set(a.tolist()) | set(b.tolist()))
                jaccard.append(len(set(a.tolist()) & set(b.tolist())) / union if union else 1.0)
                if row % args.every:
                    continue
                found = {}
                for name, pool in (("whole-tokens", a), ("subtokens", b)):
                    topics = mine_pool(np.asarray(pool), counts, config).topics
                    found[name] = {t.words for t in topics}
                    rows[name]["with_topic"].append(bool(topics))
                    rows[name]["topics"].append(len(topics))
                    rows[name]["scores"].extend(t.score for t in topics)
                shared_topics += len(found["subtokens"] & found["whole-tokens"])
                sub_topics += len(found["subtokens"])
    result = {name: {"pools": len(r["size"]), "mean_pool_size": float(np.mean(r["size"])),
                     "mined_pools": len(r["with_topic"]), "share_with_topic": float(np.mean(r["with_topic"])),
                     "topics_per_pool": float(np.mean(r["topics"])),
                     "mean_topic_npmi": float(np.mean(r["scores"])) if r["scores"] else None}
              for name, r in rows.items()}
    result.update({"mean_pool_jaccard": float(np.mean(jaccard)),
                   "subtokens_topics_also_whole_tokens": shared_topics / sub_topics if sub_topics else None,
                   "mapped_words": {"whole-tokens": whole.n_words, "subtokens": sub.n_words},
                   "model": lm.name, "corpus": args.corpus, "layers": args.layers, "every": args.every,
                   "tau": args.tau, "mining": config.to_json(), "versions": versions(),
                   "seconds": round(time.perf_counter() - started, 1)})
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
