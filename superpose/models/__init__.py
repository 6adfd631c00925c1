"""Load a decoder-only language model, frozen, with the adapter of its family.

``load_model`` accepts an embedded model name (``smollm2-135m``, the default, or
``gemma3-270m``; see :mod:`superpose.models.embedded`), a local folder saved with
``save_pretrained``, a Hugging Face hub id, or an already loaded ``PreTrainedModel``. The
weights go to the device and dtype of a :class:`~superpose.models.device.Placement` (default:
CPU, float32); a folder is loaded straight into that dtype, so a bfloat16 model never exists in
float32 in memory.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from superpose.core.errors import SuperposeError
from superpose.models.adapters import Adapter, adapter_for
from superpose.models.device import Placement, resolve_placement
from superpose.models.embedded import DEFAULT_MODEL, EMBEDDED, cache_root, embedded_folder

__all__ = ["DEFAULT_MODEL", "EMBEDDED", "LoadedModel", "Placement", "as_loaded", "cache_root",
           "load_model", "model_name", "resolve_placement"]


@dataclass
class LoadedModel:
    """A model ready for projection: eval mode, gradients off, on ``placement``.

    ``name`` is a short filesystem-safe id used in output paths; ``n_neurons`` counts the MLP
    units of one block; ``vocab_size`` is the width of the logits (the unembedding's rows).
    """

    model: nn.Module
    tokenizer: Any
    name: str
    adapter: Adapter
    n_layers: int
    n_neurons: int
    hidden_size: int
    vocab_size: int
    source: str = ""
    placement: Placement = Placement()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "model"


def model_name(spec: str) -> str:
    """The short name :func:`load_model` gives ``spec`` (records and run folders), without loading it."""
    path = Path(spec).expanduser()
    if spec in EMBEDDED:
        return spec
    if path.is_dir():
        return _safe_name(path.resolve().name)
    return _safe_name(spec.replace("/", "--"))


def _looks_like_path(spec: str) -> bool:
    """Hub ids are ``name`` or ``org/name``; anything else with a slash is meant as a folder."""
    return spec.startswith((".", "/", "~")) or spec.count("/") > 1 or spec.endswith("/") \
        or os.sep != "/" and os.sep in spec


def _wrap(model: nn.Module, tokenizer: Any, name: str, source: str,
          placement: Placement) -> LoadedModel:
    adapter = adapter_for(getattr(getattr(model, "config", None), "model_type", None))
    model = model.to(device=placement.torch_device, dtype=placement.torch_dtype).eval()
    model.requires_grad_(False)
    blocks = adapter.blocks(model)
    unembedding = adapter.unembedding(model)
    return LoadedModel(model=model, tokenizer=tokenizer, name=name, adapter=adapter,
                       n_layers=len(blocks), n_neurons=adapter.n_neurons(model),
                       hidden_size=int(unembedding.weight.shape[1]),
                       vocab_size=int(unembedding.weight.shape[0]), source=source,
                       placement=placement)


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """No per-tensor progress bar for a load that takes a second; restore the setting after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


HUB_PROBE_SECONDS = 3.0


def _hub_endpoint() -> tuple[str, int]:
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    parts = urlsplit(constants.ENDPOINT)
    return parts.hostname or "huggingface.co", parts.port or (443 if parts.scheme == "https" else 80)


def _hub_reachable() -> str | None:
    """None when the hub answers a TCP connection quickly; otherwise why not (one phrase)."""
    import socket

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return "HF_HUB_OFFLINE is set"
    host, port = _hub_endpoint()
    try:
        with socket.create_connection((host, port), timeout=HUB_PROBE_SECONDS):
            return None
    except OSError as err:
        return f"{host}:{port} does not answer ({err.strerror or type(err).__name__})"


def _hub_location(hub_id: str) -> bool:
    """Whether ``hub_id`` loads from the local hub cache; a one-line error at once when it is neither
    cached nor reachable (instead of transformers' retries, which take half a minute offline)."""
    from huggingface_hub import constants, try_to_load_from_cache

    cached = try_to_load_from_cache(hub_id, "config.json")
    if isinstance(cached, str):
        return True
    why = _hub_reachable()
    if why is not None:
        raise SuperposeError(
            f"model {hub_id!r} is not an embedded model ({', '.join(EMBEDDED)}), not a local folder, and not in the "
            f"local hub cache ({constants.HF_HUB_CACHE}); the hub cannot be reached ({why}): download it where the "
            f"hub is reachable (`hf download {hub_id}`) and copy the cache here, or pass a folder made by "
            "save_pretrained")
    return False


def _from_folder_or_hub(location: str, name: str, source: str, placement: Placement,
                        local_only: bool = False) -> LoadedModel:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(location, local_files_only=local_only)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SuperposeError(
            f"cannot load model {source!r} ({first}); give an embedded model "
            f"({', '.join(EMBEDDED)}), a local folder, or a reachable Hugging Face hub id") from err
    adapter_for(getattr(config, "model_type", None))  # fail before loading weights
    # Straight into the wanted dtype (tensor by tensor) and, for a GPU, onto it.
    where = {"device_map": placement.device} if placement.device != "cpu" else {}
    with _quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(location, dtype=placement.torch_dtype,
                                                     local_files_only=local_only, **where)
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=local_only)
    except (OSError, ValueError, TypeError):
        tokenizer = None  # pools need one; projection does not
    return _wrap(model, tokenizer, name, source, placement)


def load_model(spec: str | os.PathLike | nn.Module = DEFAULT_MODEL, *,
               cache_dir: str | os.PathLike | None = None,
               tokenizer: Any = None, device: str | Placement | None = None,
               dtype: str | None = None) -> LoadedModel:
    """Load ``spec`` (embedded name, folder, hub id or loaded model) for projection.

    ``threads`` sets torch's intra-op thread count for the whole process; ``cache_dir``
    overrides ``$SUPERPOSE_CACHE`` for embedded models; ``tokenizer`` goes with a loaded model.
    ``device`` (cpu, cuda, cuda:N, auto, or a resolved Placement) and ``dtype`` (float32,
    bfloat16, float16) are checked before anything loads; default: CPU, float32.
    """
    placement = resolve_placement(device, dtype)
    if isinstance(spec, LoadedModel):
        return spec
    if isinstance(spec, nn.Module):
        config = getattr(spec, "config", None)
        label = getattr(config, "name_or_path", "") or getattr(config, "model_type", "model")
        return _wrap(spec, tokenizer, _safe_name(Path(str(label)).name), str(label), placement)
    text = str(spec)
    if text in EMBEDDED:
        folder = embedded_folder(text, cache_dir)
        return _from_folder_or_hub(str(folder), text, text, placement)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise SuperposeError(f"model path {text} is not a folder: give a folder made by "
                                 "save_pretrained, or an embedded model name")
        return _from_folder_or_hub(str(path), model_name(text), text, placement)
    if isinstance(spec, os.PathLike) or _looks_like_path(text):
        raise SuperposeError(f"model folder {text} does not exist; embedded models: "
                             f"{', '.join(EMBEDDED)}")
    cached = _hub_location(text)
    return _from_folder_or_hub(text, model_name(text), text, placement,
                               local_only=cached)


def as_loaded(model: Any, **kwargs: Any) -> LoadedModel:
    """``model`` as a LoadedModel (loading it when given a name or path: pass a LoadedModel to reuse one)."""
    if isinstance(model, LoadedModel):
        return model
    return load_model(model, **kwargs)
