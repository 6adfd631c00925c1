"""Where torch work runs and in which precision: ``--device`` and ``--dtype``, checked once.

Every stage that runs a model (projection, activation records, the local explainer and
simulator) takes a :class:`Placement`. It validates itself on construction, before anything is
loaded, so asking for a GPU that is not there is a one-line error, not a traceback after a
minute of loading; ``auto`` becomes ``cuda`` when torch sees a GPU, else ``cpu``.

float32 is the default everywhere: it is what every committed result was made with. bfloat16
and float16 halve the memory of the weights (a model twice as large fits) and are much faster
on GPUs; what they change was measured (``scripts/bench_precision.py``, README), not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fields import option

DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("float32", "bfloat16", "float16")
DEFAULT_DEVICE = "cpu"
DEFAULT_DTYPE = "float32"

__all__ = ["DEFAULT_DEVICE", "DEFAULT_DTYPE", "DEVICES", "DTYPES", "Placement", "module_device",
           "placement_of", "resolve_placement"]


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _no_cuda_reason() -> str:
    import torch

    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is built without CUDA"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no usable GPU"


@dataclass(frozen=True)
class Placement:
    """Device and precision of a model; ``auto`` is resolved and CUDA checked on construction.

    ``device`` is ``cpu``, ``cuda``, ``cuda:N`` or ``auto``; after construction it is never
    ``auto``. ``dtype`` names the torch dtype of the weights and activations.
    """

    device: str = option("where the model runs: cpu, cuda, or auto (a CUDA GPU when one is present)",
                         DEFAULT_DEVICE, choices=DEVICES)
    dtype: str = option("precision of the model's weights and activations (README: what bfloat16 changes)",
                        DEFAULT_DTYPE, choices=DTYPES)

    def __post_init__(self) -> None:
        device = str(self.device).strip().lower()
        dtype = str(self.dtype).strip().lower()
        if dtype not in DTYPES:
            raise SuperposeError(f"unknown dtype {dtype!r}: choose one of {', '.join(DTYPES)}")
        base, _, index = device.partition(":")
        if base not in DEVICES or (index and (base != "cuda" or not index.isdigit())):
            raise SuperposeError(f"unknown device {device!r}: choose cpu, cuda, cuda:N or auto")
        if base != "cpu":
            count = _cuda_count()
            if base == "auto":
                device = "cuda" if count > 0 else "cpu"
            elif count == 0:
                raise SuperposeError(f"--device {device} needs a CUDA GPU, but {_no_cuda_reason()}: use "
                                     "--device cpu, or auto to take a GPU only when present")
            elif index and int(index) >= count:
                raise SuperposeError(f"--device {device}: there are only {count} CUDA GPU(s), "
                                     f"cuda:0-cuda:{count - 1}")
        object.__setattr__(self, "device", device)
        object.__setattr__(self, "dtype", dtype)

    @property
    def torch_device(self) -> Any:
        import torch

        return torch.device(self.device)

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    @property
    def is_default(self) -> bool:
        """True for the CPU in float32, the setting every earlier output was made with."""
        return self.device == DEFAULT_DEVICE and self.dtype == DEFAULT_DTYPE

    def label(self) -> str:
        """Short text for logs, e.g. ``cuda/bfloat16``."""
        return f"{self.device}/{self.dtype}"

    def name_suffix(self) -> str:
        """``""`` for the default, else e.g. ``@cuda-bfloat16``: appended to the name of a local
        explainer or simulator, so its cached replies and scores are not taken for float32 ones."""
        return "" if self.is_default else f"@{self.device.replace(':', '')}-{self.dtype}"

    def to_json(self) -> dict[str, str]:
        return {"device": self.device, "dtype": self.dtype}


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
