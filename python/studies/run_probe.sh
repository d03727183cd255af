#!/usr/bin/env bash
# One probe of the recipe study: train <name> for STEPS steps of batch BATCH on one thread, then
# score 500 samples (labels cycling, Tweedie step) and 2000 test images' BPD with the twin.
# usage: python/studies/run_probe.sh <configs-dir> <name> <out-dir> [steps] [batch]
set -euo pipefail
cfgdir=$1 name=$2 out=$3 steps=${4:-625} batch=${5:-64}
mkdir -p "$out"
export PYTHONPATH=python
/usr/bin/python3 -m farmer_torch.train "$cfgdir/$name.json" --dataset mnist --out "$out/$name.safetensors" \
  --steps "$steps" --batch "$batch" --lr 1e-3 --warmup 50 --threads 1 --log-every 50 --seed 1 2> "$out/$name.train.txt" > "$out/$name.summary.json"
/usr/bin/python3 -m farmer_torch.evaluate "$out/$name.safetensors" --dataset mnist --n 500 --bpd 2000 --threads 1 > "$out/$name.eval.json"
/usr/bin/python3 -m farmer_torch.evaluate "$out/$name.safetensors" --dataset mnist --n 500 --threads 1 --s 0.8 > "$out/$name.eval-s08.json" || true
