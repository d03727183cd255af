#!/usr/bin/env bash
# On a lent GPU machine (PyTorch 2 + CUDA, no Node): trains the zoo's models with the twin, all
# at once on the one GPU, each for MINUTES minutes (the cosine schedule is sized to end then), and
# writes F16 model files + logs to $OUT for this machine to evaluate with `farmer eval`.
# usage: bash python/device/train_zoo.sh MINUTES BATCH name=config.json:dataset[:init] ...
#   e.g. bash python/device/train_zoo.sh 8 256 mnist-farmer=configs/mnist-farmer.json:mnist
# Environment: LR (default 1e-3), SEED (default 0), EXTRA (more train options for every model,
#   e.g. --no-bf16), STEPS=N (every model's schedule is N steps, an equal budget in steps, and
#   MINUTES only stops a run that has not finished by then; without STEPS each schedule is sized
#   to end after MINUTES). Size N from the rates in docs/twin.md: runs share the GPU, so a rate
#   timed by one run alone overstates what it gets beside the others.
# If any run fails, the others are stopped and the script exits 1 with that run's error.
# Test here on CPU first: DEVICE=cpu OUT=/tmp/zoo bash python/device/train_zoo.sh 0.3 8 a=configs/x.json:mnist
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=$1 batch=$2
shift 2
OUT=${OUT:?set OUT}
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
LR=${LR:-1e-3}
SEED=${SEED:-0}
EXTRA=${EXTRA:-}
data=/tmp/mnist-idx
mkdir -p "$data" "$OUT" /tmp/zoo
for f in .gpu-twin/mnist/*.gz; do gunzip -c "$f" > "$data/$(basename "$f" .gz)"; done
export PYTHONPATH=python PYTHONUNBUFFERED=1
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
# a run stops itself (after a checkpoint) once past its minutes (a minute of slack when they size it)
stop_after=$($PY -c "print($minutes + (0 if '${STEPS:-}' else 1))")

pids=() names=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
failed() {  # $1 = name: its error, then stop the others
  echo "== $1 failed:"; tail -n 20 "/tmp/zoo-$1.err"; stop_all; exit 1
}
launch() {  # name cfg dataset init budget...
  local name=$1 cfg=$2 dataset=$3 init=$4
  shift 4
  # shellcheck disable=SC2086
  $PY -m farmer_torch.train "$cfg" --dataset "$dataset" --out "/tmp/zoo/$name.safetensors" --device "$DEVICE" \
    --batch "$batch" --lr "$LR" --seed "$SEED" --warmup 200 "$@" --max-minutes "$stop_after" --data-dir "$data" \
    --log-every 200 --checkpoint-minutes 2 ${init:+--init "$init"} $EXTRA > "/tmp/zoo-$name.out" 2> "/tmp/zoo-$name.err" &
  pids+=($!) names+=("$name")
}

budget=(--minutes "$minutes")
[[ -n "${STEPS:-}" ]] && budget=(--steps "$STEPS")
for spec in "$@"; do
  name=${spec%%=*} rest=${spec#*=}
  IFS=: read -r cfg dataset init <<< "$rest"
  launch "$name" "$cfg" "$dataset" "$init" "${budget[@]}"
done

# wait for all; the first failure stops the rest
running=${#pids[@]}
while (( running > 0 )); do
  running=0
  for i in "${!pids[@]}"; do
    p=${pids[$i]}
    [[ -z "$p" ]] && continue
    if kill -0 "$p" 2>/dev/null; then running=$((running + 1)); continue; fi
    wait "$p" || failed "${names[$i]}"
    pids[$i]=
  done
  sleep 2
done

for name in "${names[@]}"; do
  tail -n 3 "/tmp/zoo-$name.err"; cat "/tmp/zoo-$name.out"
  # the model file goes back as F16 (<= 16 MiB per file); the log goes back gzipped
  $PY - "$name" <<'PY'
import os
import sys
sys.path.insert(0, "python")
import torch
from farmer_torch.checkpoint import read_checkpoint, save_checkpoint
name = sys.argv[1]
cfg, card, w = read_checkpoint(f"/tmp/zoo/{name}.safetensors")
save_checkpoint(os.path.join(os.environ["OUT"], f"{name}.safetensors"), cfg, {k: torch.from_numpy(v) for k, v in w.items()}, card, f16=True)
PY
  gzip -c "/tmp/zoo/$name.safetensors.log.jsonl" > "$OUT/$name.log.jsonl.gz"
done
