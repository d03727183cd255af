"""Runs several `python3 -m farmer_torch.<command> ...` in one interpreter (one torch import for a
test file): argv[1] is a JSON list of [command, arg, ...] (a command ending in .py is a test
script's path, run through its main(argv)); prints a JSON list of
{"code", "stdout", "stderr"}, one per command, in order."""
import contextlib
import importlib
import importlib.util
import io
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))


def load(command: str):
    """farmer_torch.<command>, or a test script by its path (*.py) exposing main(argv)."""
    if command.endswith(".py"):
        spec = importlib.util.spec_from_file_location(os.path.basename(command)[:-3], command)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(f"farmer_torch.{command}")


def run(command: str, argv: list[str]) -> dict:
    module = load(command)
    entry = getattr(module, "cli", None) or module.main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = entry(argv)
        except SystemExit as e:  # argparse
            code = e.code if isinstance(e.code, int) else 2
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


if __name__ == "__main__":
    jobs = json.loads(sys.argv[1])
    print(json.dumps([run(job[0], job[1:]) for job in jobs]))
