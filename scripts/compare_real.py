"""The committed 2x2 comparison, end to end, with the CLI's own commands and defaults.

    python scripts/compare_real.py --records RECORDS/smollm2-135m --layers 2,5,8,11,14,17,20,23,26,29 \\
        --neurons 0-9 --topics results/smollm2-135m/hi-c/topics.csv.xz --out results/compare

1. ``superpose explain`` per layer with the default explainer (SmolLM2, plain prompt, 10 top
   records, at most 48 new tokens) into OUT/explanations.jsonl (resumable).
2. ``superpose compare`` with its defaults (input side: the embedding simulator on all
   held-out records; output side: steering) on those explanations.
3. gzips OUT/scores.jsonl (the input-side score rows; ``compare`` reads the plain file to
   resume, so a rerun starts from scratch unless it is unzipped first).
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True)
    parser.add_argument("--layers", required=True, help="comma-separated layers")
    parser.add_argument("--neurons", default="0-9")
    parser.add_argument("--topics", default="results/smollm2-135m/hi-c/topics.csv.xz")
    parser.add_argument("--out", default="results/compare")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from superpose.cli import main as cli

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    explained = out / "explanations.jsonl"
    common = ["--threads", str(args.threads), "--no-progress"]
    for layer in args.layers.split(","):
        code = cli(["explain", "--records", args.records, "--layer", layer, "--neurons", args.neurons,
                    "--out", str(explained), *common])
        if code:
            return code
    code = cli(["compare", "--results", args.topics, "--explanations", str(explained),
                "--records", args.records, "--out", str(out), *common])
    scores = out / "scores.jsonl"
    if code == 0 and scores.is_file():
        with scores.open("rb") as src, gzip.open(out / "scores.jsonl.gz", "wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst)
        scores.unlink()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
