"""Writes the configurations of the recipe study (docs/zoo-study.md) into a folder."""
import copy
import json
import os
import sys

BASE = {
    "image": {"height": 28, "width": 28, "channels": 1}, "patch_size": 4, "num_classes": 10,
    "af": {"blocks": 4, "layers_per_block": 2, "width": 128, "head_dim": 32, "mlp_ratio": 4,
           "class_conditional": False, "soft_clip": 0},
    "prior": {"kind": "farmer", "informative_dims": 4, "cond_repeat": 4, "final_permute": True,
              "mixtures_informative": 16, "mixtures_redundant": 16,
              "ar": {"layers": 4, "width": 128, "head_dim": 32, "mlp_ratio": 4}},
    "dequantization": {"kind": "gaussian", "sigma_max": 0.1, "sigma_min": 0.1, "schedule": "fixed"},
    "label_dropout": 0.1,
}


def variant(**changes):
    c = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = c
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return c


STUDY = {
    "tarflow": variant(prior={"kind": "gaussian"}, af__class_conditional=True),
    "farmer-ref": variant(),
    "farmer-di12-kr1": variant(prior__informative_dims=12, prior__mixtures_redundant=1),
    "farmer-di8-kr1": variant(prior__informative_dims=8, prior__mixtures_redundant=1),
    "farmer-di12-kr1-caf": variant(prior__informative_dims=12, prior__mixtures_redundant=1, af__class_conditional=True),
    "farmer-di12-kr4": variant(prior__informative_dims=12, prior__mixtures_redundant=4),
    "farmer-di12-kr1-s05": variant(prior__informative_dims=12, prior__mixtures_redundant=1,
                                   dequantization={"kind": "gaussian", "sigma_max": 0.05, "sigma_min": 0.05, "schedule": "fixed"}),
    "farmer-di12-kr1-cos": variant(prior__informative_dims=12, prior__mixtures_redundant=1,
                                   dequantization={"kind": "gaussian", "sigma_max": 0.1, "sigma_min": 0.005, "schedule": "cosine"}),
    "farmer-di12-kr1-l4": variant(prior__informative_dims=12, prior__mixtures_redundant=1, af__layers_per_block=4),
    "tarflow-l4": variant(prior={"kind": "gaussian"}, af__class_conditional=True, af__layers_per_block=4),
}

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, cfg in STUDY.items():
        with open(os.path.join(out, f"{name}.json"), "w") as f:
            json.dump(cfg, f, indent=1)
    print(" ".join(STUDY))
