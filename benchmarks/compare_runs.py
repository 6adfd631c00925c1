"""Compare the topics of two mined runs unit-polarity by unit-polarity (any layout).

    python benchmarks/compare_runs.py results/smollm2-135m/hi-c NEW_RUN/smollm2-135m/hi-c \
        [--layers 0-29] [--json results/remine_smollm2-135m.json]

A unit-polarity counts as changed when its pool size or its ranked topics (words and score) differ.
Only unit-polarities mined in both runs are compared (the count of each side is reported).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _by_unit(reader, layers: set[int] | None) -> tuple[dict, dict]:
    pools = {(r["layer"], r["neuron"], r["polarity"]): r["pool_size"]
             for r in reader.pools().select(["layer", "neuron", "polarity", "pool_size"]).to_pylist()
             if layers is None or r["layer"] in layers}
    topics: dict[tuple, list] = defaultdict(list)
    for r in reader.topics().select(["layer", "neuron", "polarity", "rank", "words", "score"]).to_pylist():
        if layers is None or r["layer"] in layers:
            topics[(r["layer"], r["neuron"], r["polarity"])].append((r["rank"], r["words"], r["score"]))
    return pools, {key: sorted(rows) for key, rows in topics.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--layers", default=None, help="layer range to compare (default: all)")
    parser.add_argument("--json", default=None, help="write the counts here")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from superpose.core.ranges import parse_range
    from superpose.mining.store import RunReader

    layers = None if args.layers is None else set(parse_range(args.layers, 10_000, "layer"))
    old_pools, old_topics = _by_unit(RunReader(Path(args.old)), layers)
    new_pools, new_topics = _by_unit(RunReader(Path(args.new)), layers)
    both = sorted(set(old_pools) & set(new_pools))
    size_changed = [k for k in both if old_pools[k] != new_pools[k]]
    changed = [k for k in both if old_pools[k] != new_pools[k] or old_topics.get(k, []) != new_topics.get(k, [])]
    best_changed = [k for k in both if old_topics.get(k, [])[:1] != new_topics.get(k, [])[:1]]
    count = lambda table: sum(len(table.get(k, [])) for k in both)  # noqa: E731
    record = {"old": args.old, "new": args.new, "layers": args.layers or "all",
              "unit_polarities_old": len(old_pools), "unit_polarities_new": len(new_pools),
              "compared": len(both), "changed": len(changed), "pool_size_changed": len(size_changed),
              "best_topic_changed": len(best_changed), "topics_old": count(old_topics),
              "topics_new": count(new_topics), "examples": [list(k) for k in changed[:20]],
              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(json.dumps(record, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
