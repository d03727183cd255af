"""Workbench checkpoints (spec section 7): a safetensors file whose metadata holds the config and
the model card. Writing a Farmer's state_dict() is writing a checkpoint the engine opens unchanged."""
from __future__ import annotations

import json

import numpy as np
import torch

from .config import ConfigError, check_config
from .model import Farmer
from .safetensors_io import SafetensorsError, load_file, save_file

FORMAT = "farmer-workbench"
VERSION = "1"
CARD_KEYS = ("dataset", "steps", "time_s", "seed", "metrics")


class CheckpointError(ValueError):
    pass


def state_to_numpy(state: dict[str, torch.Tensor], f16: bool = False) -> dict[str, np.ndarray]:
    dtype = np.float16 if f16 else np.float32
    return {k: v.detach().float().cpu().numpy().astype(dtype) for k, v in state.items()}


def save_checkpoint(path: str, config: dict, state: dict[str, torch.Tensor], card: dict, f16: bool = False) -> None:
    missing = [k for k in CARD_KEYS if k not in card]
    if missing:
        raise CheckpointError(f"card is missing {missing}")
    for k, v in state.items():
        if not bool(torch.isfinite(v).all()):
            raise CheckpointError(f"refusing to write {path}: tensor {k} has NaN or Inf values")
    meta = {"format": FORMAT, "version": VERSION, "config": json.dumps(config), "card": json.dumps(card)}
    save_file(path, state_to_numpy(state, f16), meta)


def read_checkpoint(path: str) -> tuple[dict, dict, dict[str, np.ndarray]]:
    """(config, card, weights as float32 arrays); every problem raises CheckpointError with one line."""
    try:
        tensors, meta = load_file(path)
    except SafetensorsError as e:
        raise CheckpointError(str(e)) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: metadata format is {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"{path}: unsupported checkpoint version {meta.get('version')!r}")
    try:
        config = check_config(json.loads(meta["config"]))
        card = json.loads(meta.get("card", "{}"))
    except (KeyError, json.JSONDecodeError, ConfigError) as e:
        raise CheckpointError(f"{path}: bad metadata ({e})") from None
    return config, card, {k: v.astype(np.float32) for k, v in tensors.items()}


def load_model(path: str, device: str = "cpu") -> tuple[Farmer, dict]:
    """A Farmer with the file's weights, and its card; names and shapes must be exactly the spec's."""
    config, card, weights = read_checkpoint(path)
    model = Farmer(config)
    want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if set(want) != set(got):
        miss, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        raise CheckpointError(f"{path}: tensors do not match the config (missing {miss[:3]}, unexpected {extra[:3]})")
    for k in want:
        if want[k] != got[k]:
            raise CheckpointError(f"{path}: tensor {k} has shape {list(got[k])}, the config needs {list(want[k])}")
        if not np.isfinite(weights[k]).all():
            raise CheckpointError(f"{path}: tensor {k} has NaN or Inf values")
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    return model.to(device), card
