"""The twin's safetensors reader/writer: F32/F16 round trips, BF16 reads, every malformed file
refused with one message, the bytes laid out as the format says (checked by hand-parsing), and
agreement with the `safetensors` package where it can be imported."""
import json
import os
import struct
import tempfile
import unittest

import numpy as np
import torch

from farmer_torch.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from farmer_torch.safetensors_io import SafetensorsError, load_file, parse, save_file, serialize

try:
    import safetensors.numpy as st_numpy
except ImportError:
    st_numpy = None


def tensors():
    rng = np.random.default_rng(0)
    return {"w": rng.standard_normal((3, 5)).astype(np.float32), "b": np.arange(4, dtype=np.float32) - 1.5,
            "h": (rng.standard_normal((2, 2)) * 100).astype(np.float16), "i": np.array([[1, -2]], np.int64)}


class Safetensors(unittest.TestCase):
    def test_round_trip_f32_f16_and_metadata(self):
        t = tensors()
        back, meta = parse(serialize(t, {"format": "x", "n": 3}))
        self.assertEqual(meta, {"format": "x", "n": "3"})
        self.assertEqual(list(back), list(t))
        for k in t:
            self.assertEqual(back[k].dtype, t[k].dtype)
            self.assertTrue(np.array_equal(back[k], t[k]), k)

    def test_layout_by_hand(self):
        """u64 little-endian header length, a JSON header padded with spaces to 8 bytes, raw little-endian data."""
        buf = serialize({"a": np.array([1.0, -2.0], np.float32), "b": np.array([0.5], np.float16)}, {"k": "v"})
        n = struct.unpack("<Q", buf[:8])[0]
        self.assertEqual((8 + n) % 8, 0)
        header = json.loads(buf[8:8 + n])
        self.assertEqual(header["__metadata__"], {"k": "v"})
        self.assertEqual(header["a"], {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})
        self.assertEqual(header["b"], {"dtype": "F16", "shape": [1], "data_offsets": [8, 10]})
        self.assertEqual(buf[8 + n:], struct.pack("<ff", 1.0, -2.0) + struct.pack("<e", 0.5))

    def test_bf16_reads_as_the_upper_half_of_float32(self):
        values = np.array([1.0, -3.140625, 1e-20, 65536.0], np.float32)
        bits = (values.view(np.uint32) >> 16).astype("<u2")
        header = json.dumps({"x": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}).encode()
        back, _ = parse(struct.pack("<Q", len(header)) + header + bits.tobytes())
        self.assertTrue(np.array_equal(back["x"], (bits.astype(np.uint32) << 16).view(np.float32)))
        self.assertEqual(back["x"][1], -3.140625)

    def test_malformed_files_are_refused(self):
        good = serialize({"w": np.zeros(4, np.float32)})
        n = struct.unpack("<Q", good[:8])[0]
        header = lambda h: struct.pack("<Q", len(h)) + h
        cases = {
            "shorter than the 8-byte": b"abc",
            "runs past the end": struct.pack("<Q", 10**6) + b"{}",
            "absurdly large": struct.pack("<Q", 2**40),
            "not valid JSON": header(b"{nope") + bytes(16),
            "not a JSON object": header(b"[1, 2]"),
            "bad header entry": header(b'{"w": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}}') + b"x",
            "bad data_offsets": header(b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}') + bytes(4),
            "do not fit shape": good[:8 + n] + good[8 + n:-4],
        }
        for phrase, buf in cases.items():
            with self.subTest(phrase):
                with self.assertRaises(SafetensorsError) as ctx:
                    parse(buf)
                self.assertIn(phrase, str(ctx.exception))

    def test_checkpoint_refusals_name_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.safetensors")
            save_file(path, {"w": np.zeros(2, np.float32)}, {"format": "something-else"})
            with self.assertRaisesRegex(CheckpointError, "metadata format is 'something-else'"):
                read_checkpoint(path)
            with self.assertRaisesRegex(CheckpointError, "cannot read"):
                read_checkpoint(os.path.join(d, "missing.safetensors"))
            with self.assertRaisesRegex(CheckpointError, "NaN or Inf"):
                save_checkpoint(path, {}, {"w": torch.tensor([float("nan")])}, {"dataset": "x", "steps": 0, "time_s": 0, "seed": 0, "metrics": {}})

    def test_load_file_reads_what_save_file_wrote(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.safetensors")
            save_file(path, tensors(), {"a": "b"})
            back, meta = load_file(path)
            self.assertEqual(meta, {"a": "b"})
            self.assertTrue(all(np.array_equal(back[k], v) for k, v in tensors().items()))

    @unittest.skipIf(st_numpy is None, "the safetensors package is not installed (Debian has none): nothing to compare with")
    def test_agrees_with_the_safetensors_package(self):
        t = tensors()
        ours = serialize(t, {"m": "1"})
        theirs = st_numpy.load(ours)
        self.assertTrue(all(np.array_equal(theirs[k], v) for k, v in t.items()))
        back, meta = parse(st_numpy.save(t, metadata={"m": "1"}))
        self.assertEqual(meta, {"m": "1"})
        self.assertTrue(all(np.array_equal(back[k], v) for k, v in t.items()))


if __name__ == "__main__":
    unittest.main()
