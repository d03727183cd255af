"""python3 -m farmer_torch.distill <teacher.safetensors> --out student.safetensors --steps N
        [--dataset mnist|colored-mnist] [--batch 32] [--lr 3e-4] [--lr-min 1e-5] [--warmup 50]
        [--weight-decay 0] [--clip 1] [--ema 0] [--seed S] [--device cpu|cuda] [--resume]

Algorithm 2 (spec section 6) as `farmer distill` runs it: a bidirectional student initialised
from the teacher's AF learns, block by block, to map the teacher's forward latents of training
images (plus s eps, s ~ U[0, 0.3] once per batch) back in one parallel pass; the loss is
(1/n) sum_k MSE(Z~^k, Z^k) along the student's own chain n-1 ... 0. Only the student's af.*
train (AdamW, warm-up then cosine, global-norm clipping, non-finite steps skipped, plain EMA when
--ema > 0); the teacher's AF and AR prior stay fixed. Step t draws its batch (with replacement),
dequantization (uniform, or Gaussian at the teacher's final sigma), label dropout (class-conditional
AFs only), s and eps from a torch generator seeded by (seed, t): the same recipe as the engine,
not the same draws. Writes <out> (student af.* + the teacher's ar.*, config.student = true, the
card naming the teacher's SHA-256: a file `farmer sample` and the app open), <out>.state.safetensors
(--resume continues exactly) and <out>.log.jsonl.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

from . import __version__
from .checkpoint import CheckpointError, load_model, save_checkpoint
from .config import ConfigError, check_config, final_sigma, student_config
from .data import DataError, load_dataset
from .model import NULL_LABEL, Farmer, patchify
from .safetensors_io import SafetensorsError
from .train import TrainError, _generator, learning_rate, load_state, param_groups, restore_optimizer, save_state

DEFAULTS = dict(batch=32, seed=0, lr=3e-4, lrMin=1e-5, warmup=50, weightDecay=0.0, clip=1.0, ema=0.0)
ALGORITHM = "Algorithm 2 (spec §6): one-step student, s ~ U[0, 0.3]"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_student(teacher: Farmer) -> Farmer:
    """The student: the teacher's config marked as a student, every weight copied; the ar.* prior frozen."""
    student = Farmer(student_config(teacher.config)).to(next(teacher.parameters()).device)
    student.load_state_dict(teacher.state_dict())
    for name, p in student.named_parameters():
        p.requires_grad_(name.startswith("af."))
    return student


def distill_batch(images: torch.Tensor, labels: torch.Tensor, cfg: dict, batch: int, g: torch.Generator):
    """Step t's images in model space and labels (null unless the AF is class-conditional)."""
    dev = images.device
    idx = torch.randint(len(images), (batch,), generator=g, device=dev)
    pixels = images[idx].float()
    dq = cfg["dequantization"]
    if dq["kind"] == "uniform":  # x = (x_int + u)/128 - 1
        x = (pixels + torch.rand(pixels.shape, generator=g, device=dev)) / 128 - 1
    else:  # the data the teacher was last trained on: sigma at the end of its schedule
        x = pixels / 127.5 - 1 + final_sigma(dq) * torch.randn(pixels.shape, generator=g, device=dev)
    y = torch.full((batch,), NULL_LABEL, dtype=torch.long, device=dev)
    if cfg["af"]["class_conditional"] and cfg["num_classes"] > 0:
        drop = torch.rand(batch, generator=g, device=dev) < cfg["label_dropout"]
        y = torch.where(drop, y, labels[idx])
    return x, y


def distillation_loss(teacher: Farmer, student: Farmer, x: torch.Tensor, y: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Algorithm 2's loss for a batch, with s ~ U[0, 0.3] (once per batch) and eps drawn from g."""
    s = 0.3 * float(torch.rand((), generator=g, device=x.device))
    d = teacher.dims
    eps = torch.randn(x.shape[0], d.tokens, d.token_dim, generator=g, device=x.device)
    return distillation_loss_at(teacher, student, x, y, s, eps)


def distillation_loss_at(teacher: Farmer, student: Farmer, x, y, s: float, eps: torch.Tensor) -> torch.Tensor:
    """Teacher latents Z^0 ... Z^n of x [B, H, W, C]; Z~^n = Z^n + s eps [B, N, d]; the student
    blocks n-1 ... 0 chained on their own outputs; (1/n) sum_k MSE(Z~^k, Z^k)."""
    n = len(teacher.af.blocks)
    with torch.no_grad():
        x0 = patchify(x, teacher.config["patch_size"])  # [B, N, d]
        _, _, _, latents = teacher.af_forward(x0, y, keep_latents=True)
        targets = [x0] + latents
    z = targets[n] + s * eps
    total = x.new_zeros(())
    for k in range(n - 1, -1, -1):
        z = student.af.blocks[k].student(z, y)
        total = total + F.mse_loss(z, targets[k])
    return total / n


def curve(lines: list[dict], points: int = 50) -> list[list[float]]:
    """At most `points` [step, mean loss] pairs over runs of consecutive non-skipped lines (the engine's curveSummary)."""
    size = max(1, math.ceil(len(lines) / points))
    out = []
    for i in range(0, len(lines), size):
        w = [l for l in lines[i:i + size] if not l["skipped"]]
        if w:
            out.append([w[-1]["step"], float(f"{sum(l['loss'] for l in w) / len(w):.5g}")])
    return out


def mean_of_last50(lines: list[dict]):
    last = [l["loss"] for l in lines[-50:] if not l["skipped"]]
    return sum(last) / len(last) if last else None


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.distill", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("teacher", help="the teacher model file (.safetensors)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dataset", choices=["mnist", "colored-mnist"], help="default: the teacher's card's")
    ap.add_argument("--steps", type=int)
    ap.add_argument("--batch", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--lr-min", type=float, dest="lrMin")
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--weight-decay", type=float, dest="weightDecay")
    ap.add_argument("--clip", type=float)
    ap.add_argument("--ema", type=float)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--checkpoint-every", type=int, default=200)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--data-dir")
    ap.add_argument("--json", action="store_true", help="one JSON summary line on stdout")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    say = (lambda *m: None) if a.json else (lambda *m: print(*m, file=sys.stderr, flush=True))
    if a.threads:
        torch.set_num_threads(a.threads)
    if not a.out.endswith(".safetensors"):
        raise TrainError("--out must end in .safetensors")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available")
    device = torch.device(a.device)
    teacher, tcard = load_model(a.teacher, a.device)
    if teacher.student:
        raise TrainError(f"{a.teacher} is already a distilled student; give its teacher")
    teacher.eval()
    teacher_sha = sha256_of(a.teacher)
    given = {k: getattr(a, k) for k in DEFAULTS if getattr(a, k) is not None}
    state_path, log_path = f"{a.out}.state.safetensors", f"{a.out}.log.jsonl"
    student = make_student(teacher)
    af_params = [p for n, p in student.named_parameters() if n.startswith("af.")]
    history: list[dict] = []
    if a.resume:
        if not os.path.exists(state_path):
            raise TrainError(f"--resume: no distillation state at {state_path}")
        meta, groups = load_state(state_path, device)
        extra = json.loads(meta.get("extra", "{}"))
        if extra.get("teacher_sha256") != teacher_sha:
            raise TrainError(f"--resume: {state_path} was distilled from another teacher (sha256 "
                             f"{str(extra.get('teacher_sha256'))[:12]}..., {a.teacher} is {teacher_sha[:12]}...)")
        if json.dumps(check_config(json.loads(meta["config"])), sort_keys=True) != json.dumps(student.config, sort_keys=True):
            raise TrainError(f"--resume: {state_path} holds another configuration than the teacher's")
        o = {**json.loads(meta["options"]), **given, **({"steps": a.steps} if a.steps else {})}
        student.load_state_dict({n: t for n, t in groups["param"].items()})
        step, time_s, skipped = int(meta["step"]), float(meta["time_s"]), int(meta["skipped"])
        dataset = a.dataset or extra.get("dataset")
        if os.path.exists(log_path):
            with open(log_path) as f:
                history = [l for l in (json.loads(x) for x in f if x.strip()) if l["step"] <= step]
        say(f"resuming {a.out} at step {step}/{o['steps']}")
    else:
        if not a.steps:
            raise TrainError("missing --steps")
        o = {**DEFAULTS, **given, "steps": a.steps}
        step, time_s, skipped, groups = 0, 0.0, 0, None
        dataset = a.dataset or tcard.get("dataset")
    if o["steps"] < 1 or o["batch"] < 1:
        raise TrainError("--steps and --batch must be >= 1")
    if not 0 <= o["ema"] < 1:
        raise TrainError("--ema must be in [0, 1)")
    if dataset not in ("mnist", "colored-mnist"):
        raise TrainError(f"dataset {dataset!r} is not mnist or colored-mnist" + ("" if a.dataset else " (the teacher's card names it; pass --dataset)"))
    images, labels = load_dataset(dataset, "train", a.data_dir)
    im = teacher.config["image"]
    if images.shape[1:] != (im["height"], im["width"], im["channels"]):
        raise TrainError(f"dataset {dataset} has {images.shape[1:]} images; the teacher models {im}")
    images, labels = torch.from_numpy(images).to(device), torch.from_numpy(labels).to(device)

    opt = torch.optim.AdamW(param_groups_af(student, o["weightDecay"]), lr=o["lr"], betas=(0.9, 0.95), eps=1e-8)
    ema = None
    if o["ema"] > 0:
        ema = {n: (groups["ema"][n].clone() if groups and groups["ema"] else p.detach().clone().float())
               for n, p in student.named_parameters() if n.startswith("af.")}
    if groups:
        restore_optimizer(opt, student, groups, int(meta["adam_step"]))
    say(f"distilling {a.teacher} -> {a.out}: {sum(p.numel() for p in af_params):,} student parameters, {dataset} "
        f"({len(images)} images), {device.type}, batch {o['batch']}, {o['steps']} steps, torch {torch.__version__}")
    teacher_info = {"source": a.teacher, "name": os.path.basename(a.teacher), "sha256": teacher_sha,
                    "dataset": tcard.get("dataset"), "steps": tcard.get("steps")}

    def save():
        weights = {**{n: p.detach() for n, p in student.named_parameters()}, **(ema or {})}
        card = {
            "dataset": dataset, "steps": step, "time_s": round(time_s), "seed": o["seed"], "metrics": {},
            "teacher": teacher_info,
            "distill": {
                "algorithm": ALGORITHM, "options": o, "skipped_steps": skipped,
                "first_loss": next((l["loss"] for l in history if not l["skipped"]), None),
                "last50_loss": mean_of_last50(history), "curve_loss": curve(history),
                "trainer": "farmer_torch", "trainer_version": __version__, "torch": torch.__version__,
                "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
            },
        }
        save_checkpoint(a.out, student.config, weights, card)
        save_state(state_path, student.config, o, student, opt, ema, step, time_s, skipped,
                   {"teacher_sha256": teacher_sha, "teacher": a.teacher, "dataset": dataset})

    with open(log_path, "w") as f:
        f.writelines(json.dumps(l) + "\n" for l in history)
    log_file = open(log_path, "a")
    if step >= o["steps"]:
        save()
    while step < o["steps"]:
        t0 = time.time()
        lr = learning_rate(o, step)
        for grp in opt.param_groups:
            grp["lr"] = lr
        g = _generator(o["seed"], step, 0, device)
        x, y = distill_batch(images, labels, teacher.config, o["batch"], g)
        loss = distillation_loss(teacher, student, x, y, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grads = [p.grad for p in af_params if p.grad is not None]
        norm = float(torch.sqrt(sum((gr.double() ** 2).sum() for gr in grads)))
        loss_v = float(loss)
        applied = math.isfinite(loss_v) and math.isfinite(norm)
        if applied:
            if o["clip"] > 0 and norm > o["clip"]:  # the engine's rule: scale by clip/norm above the clip
                for gr in grads:
                    gr.mul_(o["clip"] / norm)
            opt.step()
            if ema is not None:
                with torch.no_grad():
                    for n, p in student.named_parameters():
                        if n in ema:
                            ema[n].mul_(o["ema"]).add_(p.detach().float(), alpha=1 - o["ema"])
        else:
            skipped += 1
        step += 1
        dt = time.time() - t0
        time_s += dt
        line = {"step": step, "loss": loss_v, "lr": lr, "grad_norm": norm, "images_per_s": o["batch"] / dt, "skipped": not applied}
        history.append(line)
        log_file.write(json.dumps(line) + "\n")
        if step % a.log_every == 0 or step == o["steps"]:
            log_file.flush()
            say(f"step {step}/{o['steps']} loss {loss_v:.4e} lr {lr:.2e} |g| {norm:.3f} {line['images_per_s']:.1f} img/s")
        if step % a.checkpoint_every == 0 and step < o["steps"]:
            save()
    log_file.close()
    save()
    summary = {"out": a.out, "teacher": a.teacher, "teacher_sha256": teacher_sha, "steps": step, "of": o["steps"],
               "time_s": time_s, "skipped": skipped, "first_loss": next((l["loss"] for l in history if not l["skipped"]), None),
               "last50_loss": mean_of_last50(history)}
    print(json.dumps(summary) if a.json else f"{a.out}: step {step}/{o['steps']}, {time_s:.0f} s, mean loss of the last 50 steps {summary['last50_loss']:.4e}")
    return 0


def param_groups_af(student: Farmer, weight_decay: float):
    """AdamW groups over the student's af.* only: decay on matrices and tables, as the engine."""
    af = torch.nn.Module()
    af.af = student.af
    return param_groups(af, weight_decay)


def cli(argv=None) -> int:
    try:
        return main(argv)
    except (TrainError, ConfigError, CheckpointError, DataError, SafetensorsError) as e:
        print(f"farmer_torch.distill: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(cli())
