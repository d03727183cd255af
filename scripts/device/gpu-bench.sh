#!/bin/bash
# On a lent GPU machine (packed by `scripts/device/pack.sh bench`): the measurements of issue 14.
#   1. farmer bench --kernels: kernels per step of the four hot paths (the same counts as on
#      Dawn/SwiftShader here; a check that the fused kernels run on the real driver);
#   2. farmer bench --targets on webgpu: teacher and student sampling images/s at n = 1000,
#      forward images/s at batch 512, seconds per training step at batch 256, beside the goals;
#   3. the same on wasm (one CPU core) at small sizes, for the table's wasm column.
# Results: $OUT/kernels.json, $OUT/targets-webgpu.json, $OUT/targets-wasm.json, $OUT/log.txt.
# The device call: carry [".gl", ".gpu"], command `bash .gpu/run.sh`, timeout 600 s; move
# static/models out of the working tree for the call (the two models travel inside the pack).
# Here, on the CPU: LOCALTEST=1 BACKEND=wasm N=4 FORWARD_BATCH=8 TRAIN_BATCH=4 REPS=1 bash .gpu/run.sh
set -u
T0=$(date +%s)
BACKEND=${BACKEND:-webgpu}
N=${N:-1000}
FORWARD_BATCH=${FORWARD_BATCH:-512}
TRAIN_BATCH=${TRAIN_BATCH:-256}
REPS=${REPS:-3}
WASM=${WASM:-1}
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
[ -n "${LOCALTEST:-}" ] || { for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig; }
rm -rf /tmp/w && mkdir -p /tmp/w && tar -xJf .gpu/pkg.tar.xz -C /tmp/w || { echo "unpack failed"; exit 2; }
B=/tmp/w/gpub; NODE=$B/node
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $ICD ] && export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
if [ -n "${LOCALTEST:-}" ] && [ "$BACKEND" = webgpu ]; then
  export LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi
command -v nvidia-smi >/dev/null && nvidia-smi -L
cat > /tmp/w/adapter.mjs <<EOF
import * as d from '$B/node_modules/webgpu/index.js';
Object.assign(globalThis, d.globals);
const a = await d.create([]).requestAdapter();
if (!a) { console.log('NO ADAPTER'); process.exit(3); }
const i = a.info ?? {};
console.log('adapter', i.vendor, i.architecture, i.device, i.description, 'maxStorageBufferBindingSize', a.limits.maxStorageBufferBindingSize);
EOF
[ "$BACKEND" = webgpu ] && { $NODE /tmp/w/adapter.mjs || { echo "no WebGPU adapter; stopping early"; exit 3; }; }
echo "setup done at $(( $(date +%s) - T0 )) s"

farmer() { $NODE $B/farmer.mjs "$@"; }
MODELS="--teacher $B/models/mnist-farmer.safetensors --student $B/models/mnist-farmer-student.safetensors"

farmer bench --backend "$BACKEND" --kernels --json > "$OUT/kernels.json" || echo "kernel count failed"
echo "kernels done at $(( $(date +%s) - T0 )) s: $(grep -A5 '"kernels"' "$OUT/kernels.json" | head -6 | tr -d '\n ')"

farmer bench --backend "$BACKEND" --targets --n "$N" --forward-batch "$FORWARD_BATCH" --train-batch "$TRAIN_BATCH" --reps "$REPS" $MODELS --json > "$OUT/targets-$BACKEND.json" \
  || echo "targets on $BACKEND failed"
echo "targets on $BACKEND done at $(( $(date +%s) - T0 )) s"

if [ "$WASM" = 1 ] && [ "$BACKEND" != wasm ]; then
  farmer bench --backend wasm --targets --n 8 --forward-batch 32 --train-batch 16 --reps 1 $MODELS --json > "$OUT/targets-wasm.json" \
    || echo "targets on wasm failed"
  echo "targets on wasm done at $(( $(date +%s) - T0 )) s"
fi

# one line per figure, for the README's table
$NODE -e '
const fs = require("fs");
for (const f of fs.readdirSync(process.argv[1]).filter((f) => f.startsWith("targets-"))) {
  const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
  const s = r.sizes;
  console.log(`${r.backend}: teacher ${r.teacher_sampling.images_per_s.toFixed(1)} images/s (n ${s.n}), student ${r.student_sampling.images_per_s.toFixed(1)} images/s, ` +
    `forward ${r.forward.images_per_s.toFixed(1)} images/s (batch ${s.forwardBatch}), training step ${r.train_step.median_s.toFixed(3)} s (batch ${s.trainBatch}); met ${JSON.stringify(r.met)}`);
}' "$OUT"
ls -la "$OUT"
echo "done at $(( $(date +%s) - T0 )) s"
