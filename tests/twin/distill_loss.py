"""Algorithm 2's loss of the twin for given inputs: main([teacher, student, x.npy, labels.npy | "-",
eps.npy, s]) prints {"loss": L} (float32 arithmetic, as training computes it)."""
import json
import sys

import numpy as np
import torch

from farmer_torch.checkpoint import load_model
from farmer_torch.distill import distillation_loss_at


def main(argv):
    teacher_path, student_path, x_path, y_path, eps_path, s = argv
    teacher, _ = load_model(teacher_path)
    student, _ = load_model(student_path)
    x = torch.from_numpy(np.load(x_path))
    y = torch.full((len(x),), -1) if y_path == "-" else torch.from_numpy(np.load(y_path).astype(np.int64))
    eps = torch.from_numpy(np.load(eps_path))
    with torch.no_grad():
        loss = distillation_loss_at(teacher, student, x, y, float(s), eps)
    print(json.dumps({"loss": float(loss)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
