"""Train a small top-k sparse autoencoder on one layer's residual stream and save it in SAELens's
format (cfg.json + sae_weights.safetensors), so `superpose mine --sae DIR` mines its latents.

A recipe, not a model release: the weights go to --out (outside the repository). Residuals are the
stream leaving block --layer (hook blocks.L.hook_resid_post) over the sequences of a records folder
(`superpose activations`), or of --corpus-source text. Top-k activation (Gao et al. 2024), decoder
rows kept at unit norm, Adam; 10% of the positions are held out to report the fraction of variance
unexplained (FVU) and the mean number of active latents.

Usage:
  python benchmarks/train_sae.py --records RECORDS/smollm2-135m --layer 15 --out /tmp/sae-l15 \
      [--tokens 65536 --d-sae 2304 --k 32 --steps 3000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from safetensors.torch import save_file

from superpose.activations.dispersion import collect_residuals
from superpose.activations.formats import RecordStore
from superpose.core.provenance import versions
from superpose.models import load_model


def encode(x: torch.Tensor, W_enc, b_enc, b_dec, k: int) -> torch.Tensor:
    pre = torch.relu((x - b_dec) @ W_enc + b_enc)
    top = pre.topk(k, dim=-1)
    return torch.zeros_like(pre).scatter_(-1, top.indices, top.values)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", required=True, type=Path)
    ap.add_argument("--layer", type=int, required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--tokens", type=int, default=65536)
    ap.add_argument("--d-sae", type=int, default=2304)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    started = time.perf_counter()
    lm = load_model(args.model)
    store = RecordStore(args.records)
    seqs = store.sequences[: max(1, args.tokens // store.sequences.shape[1])]
    # the stream leaving block L is the stream entering block L + 1
    x = torch.from_numpy(collect_residuals(lm, seqs, [args.layer + 1])[args.layer + 1])
    collected = time.perf_counter() - started
    perm = torch.randperm(len(x))
    held, train = x[perm[: len(x) // 10]], x[perm[len(x) // 10:]]
    d_in = x.shape[1]
    W_dec = torch.randn(args.d_sae, d_in)
    W_dec /= W_dec.norm(dim=1, keepdim=True)
    W_dec.requires_grad_(True)
    W_enc = W_dec.detach().T.clone().requires_grad_(True)
    b_enc = torch.zeros(args.d_sae, requires_grad=True)
    b_dec = train.mean(0).clone().requires_grad_(True)
    opt = torch.optim.Adam([W_enc, W_dec, b_enc, b_dec], lr=args.lr)
    scale = float(train.var(0).sum())
    for step in range(args.steps):
        batch = train[torch.randint(0, len(train), (args.batch,))]
        z = encode(batch, W_enc, b_enc, b_dec, args.k)
        loss = ((z @ W_dec + b_dec - batch) ** 2).sum(1).mean() / scale
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            W_dec /= W_dec.norm(dim=1, keepdim=True)
        if step % 500 == 0:
            print(f"step {step} train FVU {loss.item():.4f}", flush=True)
    with torch.no_grad():
        z = encode(held, W_enc, b_enc, b_dec, args.k)
        fvu = float(((z @ W_dec + b_dec - held) ** 2).sum(1).mean() / held.var(0).sum())
        alive = int((encode(train[:16384], W_enc, b_enc, b_dec, args.k) > 0).any(0).sum())
    args.out.mkdir(parents=True, exist_ok=True)
    cfg = {"d_in": d_in, "d_sae": args.d_sae, "hook_name": f"blocks.{args.layer}.hook_resid_post",
           "hook_layer": args.layer, "architecture": "topk", "k": args.k, "apply_b_dec_to_input": True,
           "model_name": lm.name, "dtype": "float32"}
    (args.out / "cfg.json").write_text(json.dumps(cfg, indent=2) + "\n")
    save_file({"W_enc": W_enc.detach().contiguous(), "W_dec": W_dec.detach().contiguous(),
               "b_enc": b_enc.detach(), "b_dec": b_dec.detach()}, str(args.out / "sae_weights.safetensors"))
    report = {"layer": args.layer, "positions": int(len(x)), "train": int(len(train)), "held_out": int(len(held)),
              "d_sae": args.d_sae, "k": args.k, "steps": args.steps, "batch": args.batch, "lr": args.lr,
              "held_out_fvu": fvu, "latents_alive_on_16k_train_positions": alive,
              "seconds_collect": round(collected, 1), "seconds_total": round(time.perf_counter() - started, 1),
              "records": str(args.records), "versions": versions()}
    (args.out / "train_report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
