#!/usr/bin/env bash
# The GPU checks, in one go (about 5 minutes on one GPU): projection of the default model in every
# mode (float32 and bfloat16, each against its floor, token ids checked against the full blocks),
# what bfloat16 changes on the GPU, activation records of every layer, and one explain + score,
# all with --device cuda. Figures go to results/gpu_check/ (OUT_DIR to change), one JSON file per
# check plus gpu_check.json with the wall time of each step.
#
# On a machine where torch sees no CUDA GPU it says so, checks nothing and exits 0 (the test suite
# runs it that way). Needs a torch build with CUDA and the embedded model's package installed.
# GPU_CHECK_DEVICE=cpu rehearses the same steps on the CPU (slower: steps may hit their limits).
#
#   PYTHON=.venv/bin/python bash benchmarks/gpu_check.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
cd "$ROOT"

DEVICE="${GPU_CHECK_DEVICE:-cuda}"
if [ "$DEVICE" = cuda ] && ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "gpu_check: torch sees no CUDA GPU here; skipped the GPU checks (nothing written)"
    exit 0
fi

OUT="${OUT_DIR:-$ROOT/results/gpu_check}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
STEPS=()

step() {  # step NAME LIMIT_S COMMAND...: run, time, and stop at LIMIT_S seconds
    local name="$1" limit="$2"; shift 2
    local start end rc=0
    start=$(date +%s.%N)
    timeout "$limit" "$@" || rc=$?
    end=$(date +%s.%N)
    local seconds
    seconds=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
    STEPS+=("{\"step\": \"$name\", \"seconds\": $seconds, \"exit\": $rc}")
    echo "gpu_check: $name: exit $rc in $seconds s"
}

CLI=("$PY" -c "import sys; from superpose.cli import main; sys.exit(main())")  # the superpose command
CORPUS=()
if [ -d "$ROOT/corpus/build/default" ]; then CORPUS=(--corpus "$ROOT/corpus/build/default"); fi

# Setup, outside the 5 minutes: the embedded model's cache is built on first use (20-90 s).
step prepare 180 "$PY" -c "from superpose.models import load_model; load_model('smollm2-135m')"
step projection-float32 80 "$PY" benchmarks/bench_projection.py --device "$DEVICE" --dtype float32 --no-loop \
    "${CORPUS[@]}" --json "$OUT/projection_cuda_float32.json"
step projection-bfloat16 50 "$PY" benchmarks/bench_projection.py --device "$DEVICE" --dtype bfloat16 --no-loop \
    "${CORPUS[@]}" --json "$OUT/projection_cuda_bfloat16.json"
step precision-bfloat16 50 "$PY" benchmarks/bench_precision.py --device "$DEVICE" --dtype bfloat16 --units 0 \
    --sequences 256 --json "$OUT/precision_cuda_bfloat16.json"
step activations 60 "${CLI[@]}" activations --device "$DEVICE" --out "$WORK/records" --layers 0-29 \
    --max-tokens 200000 --no-progress
step explain 25 "${CLI[@]}" explain --device "$DEVICE" --records "$WORK/records/smollm2-135m" \
    --layer 29 --neurons 0 --out "$WORK/explanations.jsonl" --no-progress
step score 25 "${CLI[@]}" score --device "$DEVICE" --records "$WORK/records/smollm2-135m" \
    --explanations "$WORK/explanations.jsonl" --out "$WORK/scores.jsonl" --no-embedding --no-progress
cp "$WORK/explanations.jsonl" "$WORK/scores.jsonl" "$OUT/" 2>/dev/null || true

GPU="$("$PY" -c "import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none (CPU rehearsal)')")"
{
    echo "{\"gpu\": \"$GPU\", \"device\": \"$DEVICE\", \"when\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\", \"steps\": ["
    (IFS=,; echo "${STEPS[*]}")
    echo "]}"
} > "$OUT/gpu_check.json"
echo "gpu_check: figures in $OUT"
