"""main([src, out_f32, out_f16]): reads a checkpoint with the twin and writes it back with the
twin's writer, once as F32 and once as F16 (config, card and names unchanged)."""
import sys

import torch

from farmer_torch.checkpoint import read_checkpoint, save_checkpoint


def main(argv):
    src, out32, out16 = argv
    config, card, weights = read_checkpoint(src)
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    save_checkpoint(out32, config, state, card)
    save_checkpoint(out16, config, state, card, f16=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
