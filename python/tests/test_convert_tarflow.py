"""convert_tarflow: a state dict built with ml-tarflow's documented names and shapes converts, and
the converted model's logdet and latent equal an independent numpy forward of that layout;
malformed, mismatched and unsupported state dicts are each refused with one clear line."""
import contextlib
import io
import os
import tempfile
import unittest

import numpy as np
import torch

from farmer_torch import convert_tarflow
from farmer_torch.checkpoint import load_model
from tests.tarflow_fixture import reference_forward, tarflow_state_dict


def close(a, b, rtol=1e-5, atol=1e-4):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) - (atol + rtol * np.abs(b))))


class Converter(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def run_cli(self, obj, *options):
        """(exit code, stderr) of the command on `obj` saved with torch.save (or raw bytes)."""
        src = self.path("in.pth")
        if isinstance(obj, bytes):
            with open(src, "wb") as f:
                f.write(obj)
        else:
            torch.save(obj, src)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = convert_tarflow.main([src, "--out", self.path("out.safetensors"), *options])
        return code, err.getvalue().strip()

    def refused(self, obj, options, phrase):
        code, err = self.run_cli(obj, *options)
        self.assertEqual(code, 1, err)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn(phrase, err)
        return err

    def test_converted_model_equals_the_reference_forward(self):
        for C, H, p, classes, blocks, head_dim in [(3, 8, 2, 4, 3, 8), (1, 8, 4, 0, 2, 16), (2, 4, 2, 3, 1, 32)]:
            with self.subTest(C=C, p=p, classes=classes, blocks=blocks):
                sd = tarflow_state_dict(C=C, H=H, p=p, W=32, blocks=blocks, layers=2, classes=classes, seed=C + blocks)
                opts = ["--channels", str(C), "--head-dim", str(head_dim)] + (["--num-classes", str(classes)] if classes else [])
                code, err = self.run_cli(sd, *opts)
                self.assertEqual(code, 0, err)
                model, card = load_model(self.path("out.safetensors"))
                self.assertEqual(model.config["af"]["blocks"], blocks)
                self.assertEqual((model.config["image"]["height"], model.config["patch_size"]), (H, p))
                self.assertEqual(card["source"]["kind"], "apple/ml-tarflow Model state dict")
                x = np.random.default_rng(0).standard_normal((4, C, H, H)).astype(np.float32) * 0.5
                y = np.array([0, 2, -1, 1]) if classes else None
                z_ref, ld_ref = reference_forward(sd, x, y if classes else [-1] * 4, p, head_dim)
                with torch.no_grad():
                    out = model(torch.from_numpy(x.transpose(0, 2, 3, 1).copy()), None if y is None else torch.from_numpy(y))
                self.assertGreater(np.abs(ld_ref).max(), 1.0)  # the blocks really transform
                self.assertLessEqual(close(out["logdet_per_block"].numpy(), ld_ref), 0)
                self.assertLessEqual(close(out["logdet_total"].numpy(), ld_ref.sum(1)), 0)
                self.assertLessEqual(close(out["z"].numpy(), z_ref), 0)

    def test_f16_and_gaussian_noise_options(self):
        sd = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=2, layers=1, classes=0)
        code, err = self.run_cli(sd, "--patch-size", "2", "--head-dim", "16", "--noise-std", "0.05", "--f16")
        self.assertEqual(code, 0, err)
        model, _ = load_model(self.path("out.safetensors"))
        dq = model.config["dequantization"]
        self.assertEqual((dq["kind"], dq["sigma_max"], dq["sigma_min"]), ("gaussian", 0.05, 0.05))
        w = sd["blocks.1.attn_blocks.0.attention.qkv.weight"]
        self.assertTrue(torch.equal(model.state_dict()["af.blocks.1.layers.0.attn.qkv.weight"], w.half().float()))

    def test_wrapper_prefixes_are_removed(self):
        sd = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=1, layers=1, classes=0)
        code, err = self.run_cli({f"module._orig_mod.{k}": v for k, v in sd.items()}, "--channels", "1", "--head-dim", "16")
        self.assertEqual(code, 0, err)

    def test_malformed(self):
        sd = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=2, layers=1, classes=0)
        opts = ["--channels", "1", "--head-dim", "16"]
        self.refused(b"not a pickle at all", opts, "not a PyTorch checkpoint")
        self.refused([1, 2, 3], opts, "not a state dict (a list")
        self.refused({"model": sd, "epoch": 3}, opts, "not a state dict")
        self.refused({k: v for k, v in sd.items() if k != "blocks.1.proj_out.bias"}, opts, "missing tensor blocks.1.proj_out.bias")
        self.refused({k: v for k, v in sd.items() if k != "var"}, opts, "missing tensor var")
        self.refused({**sd, "head.weight": torch.zeros(3)}, opts, "unexpected tensor head.weight")
        self.refused({**sd, "blocks.0.pos_embed": torch.zeros(16, 31)}, opts, "blocks.0.pos_embed has shape [16, 31], expected [16, 32]")
        self.refused({k: v for k, v in sd.items() if not k.startswith("blocks.0.")}, opts, "no blocks.0")
        self.refused({"var": sd["var"]}, opts, "no blocks.{k}.* tensors")

    def test_mismatched_options(self):
        sd = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=1, layers=1, classes=3)  # N = 16 tokens, d = 4
        self.refused(sd, ["--patch-size", "3", "--head-dim", "16"], "--patch-size 3 contradicts the tensors")
        self.refused(sd, ["--channels", "2", "--head-dim", "16"], "--channels 2 contradicts the tensors")
        self.refused(sd, ["--image-size", "28", "--head-dim", "16"], "--image-size 28 contradicts the tensors")
        self.refused(sd, ["--channels", "1", "--patch-size", "1", "--head-dim", "16"], "--channels 1 contradicts the tensors")
        self.refused(sd, ["--channels", "1", "--head-dim", "16", "--num-classes", "10"], "--num-classes 10 contradicts the tensors: class_embed has 3 rows")
        self.refused(sd, ["--channels", "1"], "--head-dim 64 does not divide the width 32")
        self.refused(sd, ["--head-dim", "16"], "fits several layouts")
        uncond = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=1, layers=1, classes=0)
        self.refused(uncond, ["--channels", "1", "--head-dim", "16", "--num-classes", "10"], "there is no class_embed")
        code, err = self.run_cli(sd, "--image-size", "8", "--head-dim", "16")  # the image size alone fixes p = 2, C = 1
        self.assertEqual(code, 0, err)

    def test_unsupported(self):
        vp = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=1, layers=1, classes=0, nvp=False)
        self.refused(vp, ["--channels", "1", "--head-dim", "16"], "unsupported: nvp off")
        sd = tarflow_state_dict(C=1, H=8, p=2, W=32, blocks=1, layers=1, classes=0)
        self.refused({**sd, "var": torch.full((16, 4), 0.7)}, ["--channels", "1", "--head-dim", "16"], "unsupported: var is not all ones")
        self.refused({**sd, "blocks.0.attn_mask": torch.ones(16, 16)}, ["--channels", "1", "--head-dim", "16"], "not the causal mask")


if __name__ == "__main__":
    unittest.main()
