"""train --init-af / --freeze-af: a FARMER whose AF starts from a TARFlow's file (the same AF
config) and whose prior alone trains. After training the file's AF equals the source's, the prior
has moved from its initialization, a resume keeps the AF frozen, and mismatched files are refused
with one line."""
import contextlib
import copy
import io
import json
import os
import tempfile
import unittest

import numpy as np
import torch

from farmer_torch import train
from farmer_torch.checkpoint import read_checkpoint, save_checkpoint
from farmer_torch.model import Farmer, init_weights

AF = {"blocks": 2, "layers_per_block": 1, "width": 32, "head_dim": 16, "mlp_ratio": 2,
      "class_conditional": False, "soft_clip": 0}
BASE = {"image": {"height": 28, "width": 28, "channels": 1}, "patch_size": 4, "num_classes": 10, "af": AF,
        "dequantization": {"kind": "uniform"}, "label_dropout": 0.1}
TARFLOW = {**BASE, "num_classes": 0, "prior": {"kind": "gaussian"}}
FARMER = {**BASE, "prior": {"kind": "farmer", "informative_dims": 4, "cond_repeat": 2, "final_permute": True,
                            "mixtures_informative": 4, "mixtures_redundant": 4,
                            "ar": {"layers": 1, "width": 32, "head_dim": 16, "mlp_ratio": 2}}}
CARD = {"dataset": "mnist", "steps": 7, "time_s": 0, "seed": 0, "metrics": {}}


class InitAf(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        # a "trained" TARFlow: its AF weights are random, not the identity init
        g = torch.Generator().manual_seed(3)
        src = Farmer(TARFLOW)
        self.src = {k: torch.randn(v.shape, generator=g) * 0.05 for k, v in src.state_dict().items()}
        self.src_path = self.path("tarflow.safetensors")
        save_checkpoint(self.src_path, TARFLOW, self.src, CARD)
        self.cfg_path = self.path("farmer.json")
        with open(self.cfg_path, "w") as f:
            json.dump(FARMER, f)

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def train(self, *args):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = train.cli(list(args))
        return code, err.getvalue()

    def test_af_from_the_file_prior_trained_and_frozen_across_resume(self):
        out = self.path("f.safetensors")
        code, err = self.train(self.cfg_path, "--dataset", "mnist", "--out", out, "--steps", "6", "--stop-at", "3",
                               "--batch", "4", "--warmup", "2", "--init-af", self.src_path, "--freeze-af", "--ema", "0")
        self.assertEqual(code, 0, err)
        self.assertIn("starting the AF from", err)
        _, card, w = read_checkpoint(out)
        self.assertEqual(card["train"]["init"], {"source": self.src_path, "steps": 7, "part": "af"})
        af = [k for k in w if k.startswith("af.")]
        self.assertEqual(len(af), len(self.src))
        for k in af:
            np.testing.assert_array_equal(w[k], self.src[k].numpy(), err_msg=k)
        fresh = init_weights(Farmer(FARMER), 0).state_dict()
        moved = [k for k in w if k.startswith("ar.") and not np.array_equal(w[k], fresh[k].numpy())]
        self.assertGreater(len(moved), 10)
        code, err = self.train("--resume", "--dataset", "mnist", "--out", out, "--ema", "0")
        self.assertEqual(code, 0, err)
        _, card, w2 = read_checkpoint(out)
        self.assertEqual(card["steps"], 6 + 7)
        for k in af:
            np.testing.assert_array_equal(w2[k], self.src[k].numpy(), err_msg=k)
        self.assertTrue(any(not np.array_equal(w2[k], w[k]) for k in w if k.startswith("ar.")))

    def test_refusals(self):
        other = copy.deepcopy(TARFLOW)
        other["af"]["width"] = 64
        g = torch.Generator().manual_seed(1)
        wide = {k: torch.randn(v.shape, generator=g) for k, v in Farmer(other).state_dict().items()}
        save_checkpoint(self.path("wide.safetensors"), other, wide, CARD)
        base = [self.cfg_path, "--dataset", "mnist", "--out", self.path("x.safetensors"), "--steps", "2", "--batch", "4",
                "--warmup", "1"]
        code, err = self.train(*base, "--init-af", self.path("wide.safetensors"))
        self.assertEqual(code, 1)
        wide_path = self.path("wide.safetensors")
        self.assertEqual(err.strip().splitlines(), [f"farmer_torch.train: --init-af {wide_path}: its af differs from the config's"])
        code, err = self.train(*base, "--init-af", self.src_path, "--init", self.src_path)
        self.assertEqual(code, 1)
        self.assertEqual(err.strip(), "farmer_torch.train: --init and --init-af: give one")
        self.assertFalse(os.path.exists(self.path("x.safetensors")))


if __name__ == "__main__":
    unittest.main()
