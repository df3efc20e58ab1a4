#!/usr/bin/env bash
# GPU check, one H100, under 8 minutes: tokenizer -> ~100M-parameter pretrain (a few
# hundred steps) -> short SFT -> evaluation -> both benchmarks.
#
#   bash models_train/gpu_check.sh [WORKDIR]        # default WORKDIR: /tmp/ramp_gpu_check
#
# Text for pretraining: every *.txt / *.jsonl / *.parquet under $RAMP_CORPUS if set,
# else the vendored tutoring conversations (small: the point here is the machinery,
# throughput and MFU, not the model). Each stage prints a JSON line; so does the end.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${1:-/tmp/ramp_gpu_check}
mkdir -p "$W"
PY=${PYTHON:-python}
DIALOGUES=(models_train/data/tutoring/*/dialogues.jsonl)
if [[ -n "${RAMP_CORPUS:-}" ]]; then
  mapfile -t TEXT < <(find "$RAMP_CORPUS" -type f \( -name '*.txt' -o -name '*.jsonl' -o -name '*.parquet' \) | sort)
else
  TEXT=("${DIALOGUES[@]}")
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
start=$(date +%s)
stamp() { echo "[gpu_check] $1 at +$(( $(date +%s) - start ))s"; }

stamp tokenizer
$PY -m models_train.train_tokenizer --data "${TEXT[@]}" --vocab-size 32768 --out "$W/tok.json"

# depth 10 -> 640 wide: 10 x 12 x 640^2 = 49M in blocks + 2 x 32768 x 640 = 42M in the
# embeddings: ~91M parameters. 300 steps x 16 x 1024 tokens = 4.9M tokens.
stamp pretrain
$PY -m models_train.pretrain --tokenizer "$W/tok.json" --data "${TEXT[@]}" --out "$W/base" \
  --depth 10 --seq-len 1024 --batch-size 16 --steps 300 --warmup-steps 30 --eval-every 100 \
  --eval-batches 4 --log-every 25 --lr 2e-3 --embed-lr 2e-2 --device cuda

stamp sft
BASE=$(ls -d "$W"/base/ckpt/step_* | sort | tail -1)
$PY -m models_train.sft --init "$BASE" --dialogues "${DIALOGUES[@]}" --out "$W/sft" \
  --steps 100 --batch-size 16 --seq-len 1024 --eval-every 50 --eval-batches 4 --log-every 25 --device cuda

stamp evaluate
SFT=$(ls -d "$W"/sft/ckpt/step_* | sort | tail -1)
$PY -m models_train.evaluate --ckpt "$SFT" --dialogues "${DIALOGUES[@]}" --max-dialogues 120 \
  --max-new-tokens 64 --device cuda --out "$W/report.json"

stamp bench_train
$PY -m benchmarks.tutor_model.bench_train --depth 12 --vocab 32768 --seq-len 1024 --batch-size 16 --steps 10 --warmup 3
stamp bench_train_muon  # Muon's cost per step on the GPU (it helps per step on CPU: docs/models.md)
$PY -m benchmarks.tutor_model.bench_train --depth 12 --vocab 32768 --seq-len 1024 --batch-size 16 --steps 10 --warmup 3 \
  --optimizer muon --no-baseline
stamp bench_infer
$PY -m benchmarks.tutor_model.bench_infer --new-tokens 64 --reps 1
stamp done
