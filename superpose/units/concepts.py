"""Concepts learned from a layer's MLP activations, as units (a concept file, ``superpose concepts fit``).

A concept is a direction ``c`` in the layer's neuron space (the input of the MLP down projection).
Its output direction in the residual stream is ``W_down @ c`` (then the block's post-MLP norm, where
the model has one), written at the MLP output of the block, like an SAE decoder row at an
``mlp_out`` hook: the down projection's bias, which every concept shares, is left out, as an SAE's
``b_dec`` is. Hi-I reads the direction through the final norm and unembedding; Hi-C runs it through
the blocks after the concept's.

A concept's activation on a token with neuron activations ``a`` is its coefficient in the method's
reconstruction ``a ~ center + codes @ C`` (``C [n, d_mlp]``, one concept per row):

* ``linear`` (pca, ica): ``codes = (a - center) @ E``, ``E [d_mlp, n]`` stored (PCA: the components'
  transpose; ICA: the unmixing matrix's transpose).
* ``nonneg`` (nmf, semi-nmf): ``codes = argmin_{z >= 0} ||(a - center) - z @ C||`` by Ding et al.'s
  multiplicative updates with ``C`` fixed (``encode_iterations`` steps from the clipped least-squares
  solution); for NMF ``a - center`` is first clipped at 0 (the center is the per-neuron minimum on the
  training tokens, so training data is nonnegative).
* ``nearest`` (kmeans): zero except at the nearest centroid ``k`` (centroid ``scales[k] * c_k``), where
  it is ``a . c_k``, the coefficient of ``a`` on the centroid's unit direction.

Concept rows ``c`` have unit norm (``scales`` holds their norms as the method learned them).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from superpose.core.errors import SuperposeError
from superpose.units.hooks import Hook
from superpose.units.sae import Sae, safe_name

FORMAT = "superpose-concepts"
FORMAT_VERSION = 1
METHODS = ("nmf", "semi-nmf", "ica", "pca", "kmeans")
ENCODINGS = {"nmf": "nonneg", "semi-nmf": "nonneg", "ica": "linear", "pca": "linear",
             "kmeans": "nearest", "random": "linear"}
ENCODE_ITERATIONS = 100
_ARRAYS = ("concepts", "directions", "center", "scales")


def concept_hooks(layer: int) -> tuple[Hook, Hook]:
    """Where a concept writes (the block's MLP output) and where its encoder reads (the neurons)."""
    return (Hook(layer, "mlp_out", f"blocks.{layer}.hook_mlp_out"),
            Hook(layer, "neurons", f"blocks.{layer}.mlp.hook_post"))


def nonneg_codes(x: torch.Tensor, dictionary: torch.Tensor, iterations: int = ENCODE_ITERATIONS
                 ) -> torch.Tensor:
    """``argmin_{z >= 0} ||x - z @ D||`` per row of ``x`` (..., d) for ``D`` (n, d), approximately:
    Ding et al. (2010)'s multiplicative updates for the codes with the dictionary fixed."""
    shape = x.shape[:-1]
    x = x.reshape(-1, x.shape[-1]).double()
    d = dictionary.double()
    xd, dd = x @ d.T, d @ d.T
    pos, neg = dd.clamp(min=0), (-dd).clamp(min=0)
    xd_pos, xd_neg = xd.clamp(min=0), (-xd).clamp(min=0)
    z = (torch.linalg.lstsq(dd, xd.T).solution.T if dd.shape[0] else xd).clamp(min=0) + 1e-6
    for _ in range(iterations):
        z = z * torch.sqrt((xd_pos + z @ neg) / (xd_neg + z @ pos + 1e-12))
    return z.reshape(*shape, d.shape[0]).float()


@dataclass(eq=False)
class ConceptSet(Sae):
    """Concepts of one layer read from a concept file; the projection and the probe use it like an SAE.

    ``W_dec`` holds the output directions ``[n, d_model]``; ``concepts`` the neuron-space rows
    ``[n, d_mlp]``, ``center [d_mlp]`` and, for linear methods, ``encoder [d_mlp, n]``."""

    concepts: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0))
    center: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    encoder: torch.Tensor | None = None
    scales: torch.Tensor | None = None
    method: str = ""
    encoding: str = "linear"
    encode_iterations: int = ENCODE_ITERATIONS
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def unit_name(self) -> str:
        return "concept"

    @property
    def d_mlp(self) -> int:
        return int(self.concepts.shape[1])

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "kind": "concepts", "method": self.method,
                "encoding": self.encoding, "d_mlp": self.d_mlp,
                "file_sha256": self.meta.get("file_sha256")}

    def check_model(self, lm: Any) -> None:
        """One-line error unless the concepts fit ``lm``: hidden size, neuron count and layer."""
        super().check_model(lm)
        if self.d_mlp != lm.n_neurons:
            raise SuperposeError(f"the concept file {self.path} has {self.d_mlp} neurons per concept, but "
                                 f"{lm.name} has {lm.n_neurons} MLP neurons: fit concepts on this model")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Concept activations (..., n) of neuron activations ``x`` (..., d_mlp); see the module doc."""
        x = x.to(torch.float32) - self.center
        if self.encoding == "linear":
            return x @ self.encoder
        if self.encoding == "nonneg":
            if self.method == "nmf":
                x = x.clamp(min=0)
            return nonneg_codes(x, self.concepts, self.encode_iterations)
        dots = x @ self.concepts.T
        dist = self.scales ** 2 - 2 * dots * self.scales  # |a - s c|^2 - |a|^2 for unit rows c
        nearest = dist.argmin(-1, keepdim=True)
        return torch.zeros_like(dots).scatter_(-1, nearest, dots.gather(-1, nearest))

    def reconstruct(self, codes: torch.Tensor) -> torch.Tensor:
        """Neuron activations ``center + codes @ C`` from concept activations."""
        return self.center + codes.to(torch.float32) @ self.concepts


def save_concepts(path: str | os.PathLike, *, concepts: np.ndarray, directions: np.ndarray,
                  center: np.ndarray, scales: np.ndarray, encoder: np.ndarray | None,
                  meta: dict[str, Any]) -> Path:
    """Write a concept file (``.npz``, atomically): the arrays and ``meta`` (JSON: format, model,
    layer, method, parameters, versions, metrics). See docs/concepts.md for every field."""
    from superpose.core.fileio import atomic_path

    out = Path(path)
    if out.suffix != ".npz":
        raise SuperposeError(f"a concept file ends in .npz, got {out}: e.g. --out concepts-l15.npz")
    body = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    arrays = {"concepts": np.asarray(concepts, np.float32), "directions": np.asarray(directions, np.float32),
              "center": np.asarray(center, np.float32), "scales": np.asarray(scales, np.float32),
              "meta": np.frombuffer(json.dumps(body, sort_keys=True).encode(), dtype=np.uint8)}
    if encoder is not None:
        arrays["encoder"] = np.asarray(encoder, np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return out


def is_concept_file(path: Path) -> bool:
    """A cheap look: an ``.npz`` file holding a ``meta`` entry (SAE ``params.npz`` files have none)."""
    if not (path.is_file() and path.suffix == ".npz"):
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "meta" in data.files
    except (OSError, ValueError):
        return False


def _bad(path: Path, what: str) -> SuperposeError:
    return SuperposeError(f"{path} is not a valid concept file: {what}; write it again with "
                          "`superpose concepts fit`")


def read_concepts(path: str | os.PathLike) -> ConceptSet:
    """Read and check a concept file; a one-line error names what is wrong."""
    where = Path(path)
    raw = where.read_bytes()
    try:
        with np.load(where, allow_pickle=False) as data:
            arrays = {name: np.asarray(data[name]) for name in data.files}
    except (OSError, ValueError, KeyError) as err:
        raise _bad(where, f"not a readable .npz ({err})") from None
    try:
        meta = json.loads(bytes(arrays.pop("meta")).decode())
    except (KeyError, ValueError, UnicodeDecodeError):
        raise _bad(where, "its meta entry is missing or not JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(where, f"format is not {FORMAT!r}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise _bad(where, f"format_version {meta.get('format_version')!r} is not {FORMAT_VERSION}")
    for key in ("layer", "method", "model"):
        if key not in meta:
            raise _bad(where, f"meta lacks {key!r}")
    method = meta["method"]
    if method not in ENCODINGS:
        raise _bad(where, f"method {method!r} is unknown (known: {', '.join(ENCODINGS)})")
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing:
        raise _bad(where, f"it lacks the array {missing[0]!r}")
    concepts, directions, center, scales = (torch.from_numpy(arrays[n].astype(np.float32)) for n in _ARRAYS)
    if concepts.dim() != 2 or directions.dim() != 2 or concepts.shape[0] != directions.shape[0] \
            or concepts.shape[0] == 0:
        raise _bad(where, f"concepts {list(concepts.shape)} and directions {list(directions.shape)} must be "
                          "[n, d_mlp] and [n, d_model] with the same n >= 1")
    if tuple(center.shape) != (concepts.shape[1],):
        raise _bad(where, f"center has shape {list(center.shape)}, expected [{concepts.shape[1]}]")
    if tuple(scales.shape) != (concepts.shape[0],):
        raise _bad(where, f"scales has shape {list(scales.shape)}, expected [{concepts.shape[0]}]")
    encoding = ENCODINGS[method]
    encoder = arrays.get("encoder")
    if encoding == "linear":
        if encoder is None or encoder.shape != (concepts.shape[1], concepts.shape[0]):
            raise _bad(where, f"a {method} file needs an encoder of shape [{concepts.shape[1]}, "
                              f"{concepts.shape[0]}]")
    for name, value in (("concepts", concepts), ("directions", directions), ("center", center),
                        ("scales", scales)):
        if not torch.isfinite(value).all():
            raise _bad(where, f"{name} holds NaN or infinite values")
    layer = meta["layer"]
    if isinstance(layer, bool) or not isinstance(layer, int) or layer < 0:
        raise _bad(where, f"layer {layer!r} is not a block number")
    hook, in_hook = concept_hooks(layer)
    meta["file_sha256"] = hashlib.sha256(raw).hexdigest()
    name = meta.get("name") or f"{method}-l{layer}-{concepts.shape[0]}"
    return ConceptSet(name=safe_name(str(name)), format="concepts", path=str(where.resolve()), hook=hook,
                      in_hook=in_hook, W_dec=directions.contiguous(), activation="linear",
                      config=meta, concepts=concepts.contiguous(), center=center,
                      encoder=None if encoder is None else torch.from_numpy(encoder.astype(np.float32)),
                      scales=scales, method=method, encoding=encoding,
                      encode_iterations=int(meta.get("encode_iterations", ENCODE_ITERATIONS)), meta=meta)
