"""farmer_torch: the PyTorch twin of the FARMER Workbench engine.

The same model as the TypeScript engine (docs/model.md), with the spec's parameter names, so a
``state_dict()`` written with ``checkpoint.save_checkpoint`` is a workbench checkpoint.
"""

__version__ = "0.1.0"
