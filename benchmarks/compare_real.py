"""The committed 2x2 comparison, end to end, with the CLI's own commands and defaults.

    python benchmarks/compare_real.py --records RECORDS/smollm2-135m --layers 2,5,8,11,14,17,20,23,26,29 \\
        --neurons 0-9 --topics results/smollm2-135m/hi-c/topics.csv.xz --out results/compare

1. ``superpose explain`` per layer with --backend (default: the default explainer; ``top-tokens``
   writes the five strongest tokens of the explain records, no LLM) into OUT/explanations.jsonl
   (resumable); --explain-args passes more explain options (e.g. a top-tokens variant's
   --token-rank mass).
2. ``superpose compare`` with its defaults (input side: the embedding simulator on all
   held-out records; output side: steering; three sources: topics, the explanation, both joined)
   on those explanations, with --scorers (e.g. detection,fuzzing: a SmolLM2 judge) when given.
3. gzips OUT/scores.jsonl (the input-side score rows; ``compare`` reads the plain file to
   resume, so a rerun starts from scratch unless it is unzipped first).

``--merge PART ...`` only joins finished runs of disjoint layers (run side by side to use more
than one process on a shared machine) into --out: their compare.csv rows, explanations,
steering and score rows, and the summary rebuilt from the joined table. Shuffle partners are
neurons of the same layer, so the input side is as in one run; on the output side each part's
steering AUCs rank a text against the other texts of its own part and its effects are centred
on its own mean effect (as one run of those layers would).
"""

from __future__ import annotations

import argparse
import gzip
import shlex
import shutil
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", help="records folder (DIR/MODEL); required unless --merge")
    parser.add_argument("--layers", help="comma-separated layers; required unless --merge")
    parser.add_argument("--neurons", default="0-9")
    parser.add_argument("--topics", default="results/smollm2-135m/hi-c/topics.csv.xz")
    parser.add_argument("--out", default="results/compare")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backend", default=None, help="explain --backend (default: the CLI's)")
    parser.add_argument("--explain-args", default="", metavar="ARGS",
                        help="more explain options, one string, e.g. \"--token-rank mass\" (top-tokens variants)")
    parser.add_argument("--scorers", default=None, help="compare --scorers, e.g. detection,fuzzing")
    parser.add_argument("--judge-examples", default=None, help="compare --judge-examples")
    parser.add_argument("--merge", nargs="+", default=None, metavar="DIR", help="join finished parts into --out")
    args = parser.parse_args()
    if args.merge:
        return merge([Path(p) for p in args.merge], Path(args.out))
    if not args.records or not args.layers:
        parser.error("--records and --layers are required (unless --merge)")

    from superpose.cli import main as cli

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    explained = out / "explanations.jsonl"
    common = ["--threads", str(args.threads), "--no-progress"]
    for layer in args.layers.split(","):
        code = cli(["explain", "--records", args.records, "--layer", layer, "--neurons", args.neurons,
                    "--out", str(explained), *(["--backend", args.backend] if args.backend else []),
                    *shlex.split(args.explain_args), *common])
        if code:
            return code
    extra = [*(["--scorers", args.scorers] if args.scorers else []),
             *(["--judge-examples", args.judge_examples] if args.judge_examples else [])]
    code = cli(["compare", "--results", args.topics, "--explanations", str(explained),
                "--records", args.records, "--out", str(out), *extra, *common])
    scores = out / "scores.jsonl"
    if code == 0 and scores.is_file():
        with scores.open("rb") as src, gzip.GzipFile(out / "scores.jsonl.gz", "wb", mtime=0) as dst:
            shutil.copyfileobj(src, dst)
        scores.unlink()
    return code


def merge(parts: list[Path], out: Path) -> int:
    """Join the parts' tables and logs into ``out`` and rebuild its summary from the joined table."""
    import csv
    import io
    import json

    from superpose.compare import summarize
    from superpose.core.fileio import write_json_atomic, write_text_atomic

    for part in parts:
        if not (part / "compare.csv").is_file():
            raise SystemExit(f"{part}/compare.csv does not exist: run that part first")
    header, rows = None, []
    for part in parts:
        with open(part / "compare.csv", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            first = next(reader)
            if header not in (None, first):
                raise SystemExit(f"{part}/compare.csv has other columns than {parts[0]}/compare.csv")
            header = first
            rows += list(reader)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "compare.csv", buffer.getvalue())
    for name in ("explanations.jsonl", "steering.jsonl"):
        write_text_atomic(out / name, "".join((p / name).read_text(encoding="utf-8") for p in parts
                                             if (p / name).is_file()))
    with gzip.GzipFile(out / "scores.jsonl.gz", "wb", mtime=0) as dst:
        for part in parts:
            plain, packed = part / "scores.jsonl", part / "scores.jsonl.gz"
            dst.write(plain.read_bytes() if plain.is_file() else gzip.decompress(packed.read_bytes()))
    metas = [json.loads((p / "compare.json").read_text(encoding="utf-8")) for p in parts]
    meta = {**metas[0], "neurons": sum(m["neurons"] for m in metas),
            "parts": [{"folder": str(p), "neurons": m["neurons"], "created": m["created"]}
                      for p, m in zip(parts, metas, strict=True)],
            "parts_note": "each part ran `superpose compare` on its own layers; steering AUCs rank against and "
                          "centre on the part's own neurons"}
    write_json_atomic(out / "compare.json", meta)
    summarize(out)
    with open(out / "compare.csv", "rb") as src, gzip.GzipFile(out / "compare.csv.gz", "wb", mtime=0) as dst:
        shutil.copyfileobj(src, dst)
    print((out / "summary.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
