"""A PNG writer of our own (8-bit grey, RGB or RGBA), and the sample grid the engine draws
(src/lib/io/png.ts imageGrid: a 2-pixel black border around every image)."""
from __future__ import annotations

import struct
import zlib

import numpy as np

COLOR_TYPE = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (grey, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray) -> bytes:
    """uint8 [H, W, C], C in {1, 3, 4} -> PNG bytes (filter 0 on every row)."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in COLOR_TYPE:
        raise ValueError(f"encode_png: expected uint8 [H, W, 1|3|4], got {image.dtype} {list(image.shape)}")
    H, W, C = image.shape
    rows = np.concatenate([np.zeros((H, 1), np.uint8), image.reshape(H, W * C)], 1)
    header = struct.pack(">IIBBBBB", W, H, 8, COLOR_TYPE[C], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + _chunk(b"IEND", b"")


def image_grid(images: np.ndarray, cols: int | None = None, pad: int = 2, pad_value: int = 0) -> np.ndarray:
    """uint8 [n, H, W, C] -> one [rows (H + pad) + pad, cols (W + pad) + pad, C] image, row-major."""
    n, H, W, C = images.shape
    c = min(cols or int(np.ceil(np.sqrt(n))), n)
    r = -(-n // c)
    out = np.full((r * (H + pad) + pad, c * (W + pad) + pad, C), pad_value, np.uint8)
    for i in range(n):
        top, left = pad + (i // c) * (H + pad), pad + (i % c) * (W + pad)
        out[top:top + H, left:left + W] = images[i]
    return out
