"""Where torch work runs and in which precision: ``--device`` and ``--dtype``, checked once.

Every stage that runs a model (projection, activation records, the local explainer and
simulator) takes a :class:`Placement`. It validates itself on construction, before anything is
loaded, so asking for a GPU that is not there is a one-line error, not a traceback after a
minute of loading; ``auto`` becomes ``cuda`` when torch sees a GPU, else ``cpu``.

float32 is the default everywhere: it is what every committed result was made with. bfloat16
and float16 halve the memory of the weights (a model twice as large fits) and are much faster
on GPUs; what they change was measured (``benchmarks/bench_precision.py``, README), not assumed.

:class:`Placement` itself is declared with the other parameters in :mod:`superpose.config`.
"""

from __future__ import annotations

from typing import Any

from superpose.config import DEFAULT_DEVICE, DEFAULT_DTYPE, DEVICES, DTYPES, Placement
from superpose.core.errors import SuperposeError

__all__ = ["DEFAULT_DEVICE", "DEFAULT_DTYPE", "DEVICES", "DTYPES", "Placement", "module_device",
           "placement_of", "resolve_placement"]


def resolve_placement(device: str | Placement | None = None, dtype: str | None = None) -> Placement:
    """A :class:`Placement` from the loose forms library calls accept (None: the defaults)."""
    if isinstance(device, Placement):
        if dtype is not None and dtype != device.dtype:
            raise SuperposeError(f"dtype {dtype!r} contradicts the placement's {device.dtype!r}")
        return device
    return Placement(device or DEFAULT_DEVICE, dtype or DEFAULT_DTYPE)


def placement_of(model: Any) -> Placement:
    """The placement of a loaded ``nn.Module``: its first parameter's device and dtype."""
    param = next(model.parameters())
    kind = param.device.type
    device = kind if param.device.index is None or kind == "cpu" else f"{kind}:{param.device.index}"
    return Placement(device, str(param.dtype).removeprefix("torch."))


def module_device(model: Any) -> Any:
    """The device inputs of ``model`` must be on: its first parameter's, the CPU when it has
    none (stand-in models in tests)."""
    import torch

    param = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    return param.device if param is not None else torch.device("cpu")
