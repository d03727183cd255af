"""The safetensors container: u64 little-endian header length, JSON header, byte buffer.

A small reader/writer of our own (Debian has no `safetensors` package); where the package can be
imported, the tests check this one against it. Reads BF16 too (as float32), as the engine does.
"""
from __future__ import annotations

import json
import struct

import numpy as np

DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_,
}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}
MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    pass


def serialize(tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> bytes:
    """Tensors (numpy arrays) in insertion order; the header is space-padded to a multiple of 8."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    chunks = []
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype not in NAMES:
            raise SafetensorsError(f"tensor {name}: dtype {arr.dtype} cannot be written")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": NAMES[arr.dtype], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def parse(buf: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Returns (tensors in header order, metadata); every malformed file raises SafetensorsError."""
    if len(buf) < 8:
        raise SafetensorsError(f"file is {len(buf)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER:
        raise SafetensorsError(f"header length {n} bytes is absurdly large")
    if n > len(buf) - 8:
        raise SafetensorsError(f"header length {n} runs past the end of the file ({len(buf)} bytes): truncated?")
    try:
        header = json.loads(buf[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    meta = header.pop("__metadata__", {}) or {}
    body = memoryview(buf)[8 + n:]
    out: dict[str, np.ndarray] = {}
    for name, e in header.items():
        if not isinstance(e, dict) or e.get("dtype") not in (*DTYPES, "BF16") or not isinstance(e.get("shape"), list):
            raise SafetensorsError(f"tensor {name}: bad header entry {e!r}")
        offsets = e.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
            raise SafetensorsError(f"tensor {name}: bad data_offsets {offsets!r}")
        start, end = offsets
        if e["dtype"] == "BF16":  # the upper half of a float32
            raw = _read(body, name, start, end, e, np.dtype("<u2"))
            out[name] = (raw.astype(np.uint32) << 16).view(np.float32)
            continue
        dt = np.dtype(DTYPES[e["dtype"]]).newbyteorder("<")
        out[name] = _read(body, name, start, end, e, dt).astype(dt.newbyteorder("="))
    return out, meta


def _read(body, name: str, start: int, end: int, e: dict, dt: np.dtype) -> np.ndarray:
    count = int(np.prod(e["shape"], dtype=np.int64))
    if end - start != count * dt.itemsize or end > len(body) or start < 0:
        raise SafetensorsError(f"tensor {name}: offsets [{start}, {end}] do not fit shape {e['shape']} {e['dtype']}")
    return np.frombuffer(body[start:end], dtype=dt).reshape(e["shape"])


def load_file(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise SafetensorsError(f"{path}: cannot read ({e.strerror})") from None
    try:
        return parse(buf)
    except SafetensorsError as e:
        raise SafetensorsError(f"{path}: {e}") from None


def save_file(path: str, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    import os

    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(serialize(tensors, metadata))
    os.replace(tmp, path)
