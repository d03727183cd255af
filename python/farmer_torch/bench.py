"""python3 -m farmer_torch.bench [--config configs/mnist-farmer-bpd.json] [--batches 16 64] [--steps 12]
        [--warmup 3] [--modes 1x1,1x2,2x1] [--engine] [--device cpu|cuda] [--json]

Training images/s of a configuration (default the reference, configs/mnist-farmer-bpd.json) through the
real trainer (`farmer_torch.train` on MNIST, as a user runs it): for each batch and each mode
PxT (P processes, T torch threads each; P > 1 runs under torchrun with DDP, gloo on the CPU, nccl
on CUDA), the median over the steps after `--warmup` of global batch / step time, read from the
trainer's JSONL log. --engine adds `farmer train` (the TypeScript engine on its default wasm
backend) as 1 process, and as 2 independent processes at once (one per core; images/s summed).
One JSON line on stdout. A benchmark, not a test: the numbers depend on whatever else runs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

# torchrun of PyTorch 1.13 under Python 3.11 (Debian 12) fails on its default --redirects 0 / --tee 0
# (Std.from_str returns None for a zero flag); any non-zero pair avoids it. Later versions need nothing.
LAUNCHER_FIX = ["--redirects", "2", "--tee", "1"] if int(torch.__version__.split(".")[0]) < 2 else []
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def _median_rate(log_path: str, warmup: int) -> tuple[float, int]:
    with open(log_path) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    rates = [l["images_per_s"] for l in lines if l["step"] > warmup]
    if not rates:
        raise RuntimeError(f"{log_path}: no steps after the warm-up")
    return statistics.median(rates), len(rates)


def _run(cmd: list[str], env: dict, timeout: float) -> None:
    r = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({r.returncode}): {tail}")


def twin_rate(config: str, batch: int, processes: int, threads: int, steps: int, warmup: int, device: str,
              work: str, timeout: float, bf16: bool) -> dict:
    out = os.path.join(work, f"twin-{batch}-{processes}x{threads}.safetensors")
    args = ["-m", "farmer_torch.train", config, "--dataset", "mnist", "--out", out, "--steps", str(warmup + steps),
            "--batch", str(batch), "--threads", str(threads), "--device", device, "--log-every", "1000000",
            "--checkpoint-minutes", "1e9", "--warmup", "1"]
    if not bf16:
        args.append("--no-bf16")
    env = {**os.environ, "PYTHONPATH": os.path.join(REPO, "python"), "OMP_NUM_THREADS": str(threads)}
    launcher = [] if processes == 1 else ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *LAUNCHER_FIX]
    cmd = [sys.executable, *launcher, *args]
    _run(cmd, env, timeout)
    rate, n = _median_rate(f"{out}.log.jsonl", warmup)
    return {"trainer": "farmer_torch", "batch": batch, "processes": processes, "threads": threads, "images_per_s": round(rate, 2), "steps": n}


def engine_rate(config: str, batch: int, processes: int, steps: int, warmup: int, work: str, timeout: float) -> dict:
    """`farmer train` on its default backend; `processes` independent runs at once, their rates summed."""
    procs, logs = [], []
    for i in range(processes):
        out = os.path.join(work, f"engine-{batch}-{processes}-{i}.safetensors")
        logs.append(f"{out}.log.jsonl")
        procs.append(subprocess.Popen(["node", "bin/farmer.mjs", "train", config, "--dataset", "mnist", "--out", out,
                                       "--steps", str(warmup + steps), "--batch", str(batch), "--warmup", "1", "--seed", str(i)],
                                      cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"farmer train failed ({p.returncode}): {(err.strip().splitlines() or ['?'])[-1]}")
    rates = [_median_rate(l, warmup) for l in logs]
    return {"trainer": "farmer train (engine)", "batch": batch, "processes": processes, "threads": 1,
            "images_per_s": round(sum(r for r, _ in rates), 2), "steps": min(n for _, n in rates)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.bench", description=__doc__.split("\n\n")[1])
    ap.add_argument("--config", default=os.path.join(REPO, "configs", "mnist-farmer-bpd.json"))
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--steps", type=int, default=12, help="timed steps per measurement")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--modes", default="1x1,1x2,2x1", help="PxT: processes x threads, comma-separated")
    ap.add_argument("--engine", action="store_true", help="also `farmer train` (1 process, and 2 at once)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--no-bf16", action="store_true", help="float32 on CUDA")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    modes = []
    for m in a.modes.split(","):
        p, _, t = m.partition("x")
        if not (p.isdigit() and t.isdigit() and int(p) > 0 and int(t) > 0):
            print(f"farmer_torch.bench: --modes: {m!r} is not PxT (e.g. 2x1)", file=sys.stderr)
            return 2
        modes.append((int(p), int(t)))
    if a.device == "cuda" and not torch.cuda.is_available():
        print("farmer_torch.bench: --device cuda: no CUDA device is available", file=sys.stderr)
        return 1
    results, errors = [], []
    started = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="farmer-bench-") as work:
        def measure(label: str, batch: int, fn):
            try:
                r = fn()
                results.append(r)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                r = {"batch": batch, "mode": label, "error": str(e)}
                errors.append(r)
            print(f"bench: {json.dumps(r)}", file=sys.stderr, flush=True)

        for batch in a.batches:
            for p, t in modes:
                measure(f"{p}x{t}", batch, lambda: twin_rate(a.config, batch, p, t, a.steps, a.warmup, a.device, work, a.timeout, not a.no_bf16))
            if a.engine:
                for p in (1, 2):
                    measure(f"engine {p}", batch, lambda: engine_rate(a.config, batch, p, a.steps, a.warmup, work, a.timeout))
    print(json.dumps({
        "config": os.path.relpath(a.config, REPO), "device": torch.cuda.get_device_name() if a.device == "cuda" else "cpu",
        "torch": torch.__version__, "cpus": os.cpu_count(), "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()], "warmup_steps": a.warmup, "timed_steps": a.steps,
        "seconds": round(time.time() - started, 1), "results": results, "errors": errors,
    }))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
