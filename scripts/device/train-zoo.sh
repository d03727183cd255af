#!/bin/bash
# On a lent GPU machine (see pack.sh): farmer train --backend webgpu (tfjs-backend-webgpu through
# Dawn and the NVIDIA Vulkan driver), the four zoo models at once, each continued from its shipped
# weights, the schedules sized by a 20-step probe to BUDGET seconds. LOCALTEST=1 BACKEND=wasm runs
# the same logic here (no Vulkan packages unpacked).
set -u
T0=$(date +%s)
BUDGET=${BUDGET:-560}
BATCH=${BATCH:-256}
BACKEND=${BACKEND:-webgpu}
LR=${LR:-5e-4}
left() { echo $((BUDGET - ($(date +%s) - T0))); }
[ -n "${LOCALTEST:-}" ] || { for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
mkdir -p /tmp/w && tar -xJf .gpu/pkg.tar.xz -C /tmp/w || { echo "unpack failed"; exit 2; }
B=/tmp/w/gpub; NODE=$B/node
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $ICD ] && export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
nvidia-smi -L; nproc
ls /usr/local/nvidia/share/vulkan/icd.d/ /etc/vulkan/icd.d /usr/share/vulkan/icd.d 2>&1 | head
cat > /tmp/w/adapter.mjs <<EOF
import * as d from '$B/node_modules/webgpu/index.js';
Object.assign(globalThis, d.globals);
const a = await d.create([]).requestAdapter();
if (!a) { console.log('NO ADAPTER'); process.exit(3); }
const i = a.info ?? {};
console.log('adapter', i.vendor, i.architecture, i.device, i.description, 'maxStorageBuffersPerShaderStage', a.limits.maxStorageBuffersPerShaderStage);
EOF
[ $BACKEND = webgpu ] && { $NODE /tmp/w/adapter.mjs || { echo "no WebGPU adapter; stopping early"; exit 3; }; }
echo "setup done at $(( $(date +%s) - T0 )) s"

MODELS="mnist-farmer mnist-tarflow mnist-farmer-k1 colored-mnist-farmer"
dataset() { case $1 in colored-*) echo colored-mnist;; *) echo mnist;; esac; }
train() { # name steps outdir extra...
  local m=$1 n=$2 dir=$3; shift 3
  $NODE $B/farmer.mjs train $B/cfg/$m.json --dataset $(dataset $m) --init static/models/$m.safetensors \
    --out $dir/$m.safetensors --steps $n --batch $BATCH --lr $LR --lr-min 1e-5 --warmup 100 --seed 5 \
    --log-every 50 --backend $BACKEND "$@" > $dir/$m.out 2>&1
}
# Probe: 20 steps of all four at once, to size the schedules to the time left.
mkdir -p /tmp/probe /tmp/run
for m in $MODELS; do train $m 20 /tmp/probe & done; wait
for m in $MODELS; do tail -2 /tmp/probe/$m.out; done
rate() { # steps/s over the probe's last 10 steps (median images/s / batch)
  python3 -c "
import json,statistics,sys
L=[json.loads(l) for l in open('/tmp/probe/$1.safetensors.log.jsonl')]
print(statistics.median(x['images_per_s'] for x in L[-10:])/$BATCH)" 2>/dev/null || echo 0
}
declare -A R; for m in $MODELS; do R[$m]=$(rate $m); echo "probe $m: ${R[$m]} steps/s"; done
AVAIL=$(( $(left) - 40 ))
steps() { python3 -c "print(max(0,int(0.8*$AVAIL*$1)))"; }
NF=$(python3 -c "print(min(${R[mnist-farmer]}, ${R[mnist-tarflow]}))")
declare -A N; N[mnist-farmer]=$(steps $NF); N[mnist-tarflow]=$(steps $NF)
N[mnist-farmer-k1]=$(steps ${R[mnist-farmer-k1]}); N[colored-mnist-farmer]=$(steps ${R[colored-mnist-farmer]})
MM=$(python3 -c "print(round(($AVAIL-15)/60,2))")
echo "time left $(left) s; steps: $(for m in $MODELS; do echo -n "$m ${N[$m]}  "; done); max-minutes $MM"
for m in $MODELS; do [ "${N[$m]}" -gt 0 ] && train $m ${N[$m]} /tmp/run --max-minutes $MM & done
# Copy checkpoints to OUT as they appear, so a kill at the limit still returns the last one.
( while true; do sleep 45; for m in $MODELS; do [ -f /tmp/run/$m.safetensors ] && cp /tmp/run/$m.safetensors $OUT/$m.safetensors.part; done; done ) &
W=$!
wait $(jobs -p | grep -v $W) 2>/dev/null
kill $W 2>/dev/null
for m in $MODELS; do
  [ -f /tmp/run/$m.safetensors ] && cp /tmp/run/$m.safetensors $OUT/$m.safetensors && rm -f $OUT/$m.safetensors.part
  tail -3 /tmp/run/$m.out
done
tar -czf $OUT/logs.tgz -C /tmp run/mnist-farmer.out run/mnist-tarflow.out run/mnist-farmer-k1.out run/colored-mnist-farmer.out \
  $(cd /tmp && ls run/*.log.jsonl probe/*.out probe/*.log.jsonl) 2>/dev/null
ls -la $OUT
echo "done at $(( $(date +%s) - T0 )) s"
