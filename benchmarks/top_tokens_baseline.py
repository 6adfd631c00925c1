"""A baseline explanation without any language model: the tokens a neuron fires on most.

    python benchmarks/top_tokens_baseline.py --records RECORDS/smollm2-135m --layers 2,5,8 --neurons 0-9 \\
        --out top_tokens.jsonl
    superpose compare --results RUN --explanations top_tokens.jsonl --records RECORDS/smollm2-135m --out OUT

For each neuron, "the tokens A, B, C, D, E": its --count distinct tokens (surrounding whitespace
removed) with the highest activation in the records the explainer sees (the split's explain
set, never the held-out records that are scored). Written in the format of `superpose
explain`, so `compare` and `score` take it as the LLM explanation. It shows what the input-side
scorers can detect when a text names the firing tokens, and so bounds what an explainer adds.
The same text is a back-end of `superpose explain` (`--backend top-tokens`,
superpose/explainer/clients/top_tokens.py); this script keeps the --count knob.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> int:
    from superpose.config import TopTokensParams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True, help="records folder (DIR/MODEL)")
    parser.add_argument("--layers", required=True, help="comma-separated layers")
    parser.add_argument("--neurons", default="0-9")
    parser.add_argument("--count", type=int, default=TopTokensParams.count, help="tokens named per neuron")
    parser.add_argument("--out", required=True, help="JSON-lines file to write")
    args = parser.parse_args()
    if args.count < 1:
        raise SystemExit("--count must be at least 1")

    from superpose.activations.formats import RecordStore
    from superpose.core.fileio import write_text_atomic
    from superpose.core.ranges import parse_range
    from superpose.explainer.clients.top_tokens import top_tokens

    store = RecordStore(args.records)
    lines = []
    for layer in parse_range(args.layers, store.meta["n_layers"], "layer"):
        for neuron in parse_range(args.neurons, store.meta["n_neurons"], "neuron"):
            words = top_tokens(store.neuron(layer, neuron).split().explain, args.count)
            row = {"layer": layer, "neuron": neuron, "records_model": store.model,
                   "explainer": {"backend": "top-tokens baseline", "count": args.count}}
            row.update({"status": "ok", "explanation": "the tokens " + ", ".join(words)} if words
                       else {"status": "dead", "error": "no token above zero in the explain records"})
            lines.append(json.dumps(row, sort_keys=True) + "\n")
    write_text_atomic(Path(args.out), "".join(lines))
    print(f"{len(lines)} baseline explanations in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
