#!/usr/bin/env bash
# On a lent GPU machine (PyTorch 2 + CUDA, no Node): trains the zoo's models with the twin, all
# at once on the one GPU, each for MINUTES minutes (the cosine schedule is sized to end then), and
# writes F16 model files + logs to $OUT for this machine to evaluate with `farmer eval`.
# usage: bash python/device/train_zoo.sh MINUTES BATCH name=config.json:dataset[:init] ...
#   e.g. bash python/device/train_zoo.sh 8 256 mnist-farmer=configs/mnist-farmer.json:mnist
# Test here on CPU first: DEVICE=cpu OUT=/tmp/zoo bash python/device/train_zoo.sh 0.3 8 a=configs/x.json:mnist
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=$1 batch=$2
shift 2
OUT=${OUT:?set OUT}
DEVICE=${DEVICE:-cuda}
PY=${PY:-python3}
LR=${LR:-1e-3}
data=/tmp/mnist-idx
mkdir -p "$data" "$OUT" /tmp/zoo
for f in .gpu-twin/mnist/*.gz; do gunzip -c "$f" > "$data/$(basename "$f" .gz)"; done
export PYTHONPATH=python PYTHONUNBUFFERED=1
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
pids=()
for spec in "$@"; do
  name=${spec%%=*} rest=${spec#*=}
  IFS=: read -r cfg dataset init <<< "$rest"
  $PY -m farmer_torch.train "$cfg" --dataset "$dataset" --out "/tmp/zoo/$name.safetensors" --device "$DEVICE" \
    --batch "$batch" --lr "$LR" --warmup 200 --minutes "$minutes" --data-dir "$data" --log-every 200 \
    --checkpoint-minutes 2 ${init:+--init "$init"} > "/tmp/zoo-$name.out" 2> "/tmp/zoo-$name.err" &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
for spec in "$@"; do
  name=${spec%%=*}
  tail -n 3 "/tmp/zoo-$name.err"; cat "/tmp/zoo-$name.out"
  # the model file goes back as F16 (<= 16 MiB per file); the log goes back gzipped
  $PY - "$name" <<'PY'
import sys
sys.path.insert(0, "python")
from farmer_torch.checkpoint import read_checkpoint, save_checkpoint
import torch
name = sys.argv[1]
cfg, card, w = read_checkpoint(f"/tmp/zoo/{name}.safetensors")
import os
save_checkpoint(os.path.join(os.environ["OUT"], f"{name}.safetensors"), cfg, {k: torch.from_numpy(v) for k, v in w.items()}, card, f16=True)
PY
  gzip -c "/tmp/zoo/$name.safetensors.log.jsonl" > "$OUT/$name.log.jsonl.gz"
done
exit $status
