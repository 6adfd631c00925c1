"""The committed 2x2 comparison, end to end, with the settings this CPU affords.

    python scripts/compare_real.py --records RECORDS/smollm2-135m --layers 2,5,8,11,14,17,20,23,26,29 \\
        --neurons 0-9 --topics results/smollm2-135m/hi-c/topics.csv.xz --out results/compare

1. Explains each neuron with a local model (default SmolLM2, one model shared with the simulator
   and the steering), from --max-records top records and at most --max-tokens generated tokens
   (OUT/explanations.jsonl, the format of `superpose explain`; resumable).
2. Runs `superpose compare`'s function on those explanations: input side by simulation on
   --score-records top and random held-out records, output side by steering.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True)
    parser.add_argument("--layers", required=True)
    parser.add_argument("--neurons", default="0-9")
    parser.add_argument("--topics", default="results/smollm2-135m/hi-c/topics.csv.xz")
    parser.add_argument("--out", default="results/compare")
    parser.add_argument("--model", default="smollm2-135m", help="explainer and simulator")
    parser.add_argument("--max-records", type=int, default=6)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--score-records", type=int, default=2)
    parser.add_argument("--calibration", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--explain-only", action="store_true")
    args = parser.parse_args()

    import torch

    from superpose.compare import CompareParams, compare
    from superpose.core.provenance import timestamp
    from superpose.core.ranges import parse_range
    from superpose.llm.clients import LLMError, LocalChatClient
    from superpose.llm.explain import explain_records
    from superpose.llm.formats import JsonlWriter, RecordStore, iter_done
    from superpose.llm.local_models import load_local_model
    from superpose.llm.prompts import DeadNeuronError, ExplanationParseError
    from superpose.llm.simulate import AllAtOnceSimulator
    from superpose.llm.steering import Steerer

    torch.set_num_threads(args.threads)
    store = RecordStore(args.records)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    lm = load_local_model(args.model)
    client = LocalChatClient(lm.model, lm.tokenizer, lm.name, None)
    explained = out / "explanations.jsonl"
    done = set(iter_done(explained))
    writer = JsonlWriter(explained)
    for layer in parse_range(args.layers, store.meta["n_layers"], "layer"):
        for neuron in parse_range(args.neurons, store.meta["n_neurons"], "neuron"):
            if (layer, neuron) in done:
                continue
            start = time.monotonic()
            row = {"layer": layer, "neuron": neuron, "records_model": store.model,
                   "explainer": {"backend": "local", "model": client.name, "max_records": args.max_records,
                                 "max_tokens": args.max_tokens}}
            records = store.neuron(layer, neuron)
            try:
                text = explain_records(records.split().explain, client, args.max_records,
                                       max_tokens=args.max_tokens)
                row.update(status="ok", explanation=text)
            except DeadNeuronError as err:
                row.update(status="dead", error=str(err))
            except (LLMError, ExplanationParseError) as err:
                row.update(status="error", error=str(err))
            row.update(seconds=round(time.monotonic() - start, 2), created=timestamp())
            writer.write(row)
            print(json.dumps({k: row.get(k) for k in ("layer", "neuron", "status", "explanation", "seconds")}),
                  flush=True)
    if args.explain_only:
        return 0
    simulator = AllAtOnceSimulator(lm.model, lm.tokenizer, lm.name, 4)
    params = CompareParams(max_topics=1, score_records=args.score_records, calibration=args.calibration)
    start = time.monotonic()
    compare(args.topics, explained, args.records, out, simulator=simulator, steerer=Steerer(lm), params=params,
            progress=False)
    print(f"compare took {time.monotonic() - start:.0f} s")
    print((out / "summary.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
