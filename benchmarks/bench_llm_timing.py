"""Time the LLM path: activation records for one layer, and explain + score of one neuron.

    python benchmarks/bench_llm_timing.py --tokens 20000 --layer 15 --explainer qwen2.5-coder-0.5b

Measures ``--tokens`` corpus tokens (both passes) and extrapolates linearly to 200k tokens;
then explains and scores one neuron of those records with the explainer model as simulator.
Writes results/bench_llm_timing.json.
"""

from __future__ import annotations

import time

import numpy as np
from harness import machine, parser, write_result


def main() -> int:
    ap = parser(__doc__, "results/bench_llm_timing.json", model=True, threads=2)
    ap.add_argument("--layer", type=int, default=15)
    ap.add_argument("--tokens", type=int, default=20_000)
    ap.add_argument("--corpus-source", default="default")
    ap.add_argument("--explainer", default="qwen2.5-coder-0.5b")
    ap.add_argument("--score-records", type=int, default=0,
                        help="score on at most K top and K random records per set (0: all)")
    ap.add_argument("--no-spill", action="store_true",
                        help="run the model again for the quantile pass (the old way)")
    args = ap.parse_args()
    facts = machine()

    import torch

    from superpose.activations.collect import SPILL_LIMIT, collect_records, cut_sequences
    from superpose.activations.formats import ActivationRecord, NeuronRecords
    from superpose.corpus.sources import iter_documents
    from superpose.explainer.clients.local import LocalChatClient
    from superpose.explainer.explain import explain_records
    from superpose.explainer.local_models import load_local_model
    from superpose.explainer.scorers import score_explanation
    from superpose.explainer.simulators.all_at_once import AllAtOnceSimulator

    torch.set_num_threads(args.threads)
    result: dict = {"settings": vars(args)}
    lm = load_local_model(args.model)
    sequences = cut_sequences(lm.tokenizer, iter_documents(args.corpus_source), 64, args.tokens)
    module = lm.adapter.mlp_out_proj(lm.adapter.blocks(lm.model)[args.layer])
    start = time.monotonic()
    how: dict = {}
    layer = collect_records(lm.model, {args.layer: module}, sequences,
                            spill_limit=0 if args.no_spill else SPILL_LIMIT,
                            report=how)[args.layer]
    seconds = time.monotonic() - start
    result["records"] = {"tokens": int(sequences.size), "seconds": round(seconds, 1),
                         "second_pass": how["second_pass"],
                         "extrapolated_200k_seconds": round(seconds * 200_000 / sequences.size)}
    print(result["records"], flush=True)

    neuron = int(np.argmax(layer.max))
    table = {int(i): lm.tokenizer.decode([int(i)]) for i in np.unique(sequences)}

    def rec(seq: int, acts: np.ndarray, kind: str) -> ActivationRecord:
        return ActivationRecord([table[int(t)] for t in sequences[seq]], acts, int(seq), kind)

    records = NeuronRecords(
        lm.name, args.layer, neuron,
        [rec(s, layer.top_acts[i, :, neuron], "top")
         for i, s in enumerate(layer.top_ids[:, neuron]) if s >= 0],
        [rec(s, layer.random_acts[i, :, neuron], "random") for i, s in enumerate(layer.random_ids)])
    del lm
    explainer = load_local_model(args.explainer)
    client = LocalChatClient(explainer.model, explainer.tokenizer, explainer.name)
    start = time.monotonic()
    split = records.split().limited(args.score_records)
    text = explain_records(split.explain, client)
    explain_s = time.monotonic() - start
    sim = AllAtOnceSimulator(explainer.model, explainer.tokenizer, explainer.name)
    sim_start = time.monotonic()
    scores = score_explanation(text, split, sim)
    total = time.monotonic() - start
    n_sim = len(split.holdout) + len(split.calibration)
    result["explain_and_score"] = {
        "neuron": neuron, "explanation": text, "explain_seconds": round(explain_s, 1),
        "total_seconds": round(total, 1),
        "seconds_per_simulated_record": round((time.monotonic() - sim_start) / n_sim, 2),
        "holdout_records": len(split.holdout),
        "calibration_records": len(split.calibration), "scores": scores.to_json()}
    print(result["explain_and_score"], flush=True)
    write_result(args.out, result, start=facts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
