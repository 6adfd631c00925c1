"""Run a model over corpus sequences and collect per-neuron activation records per layer.

A neuron's activation is the input of the MLP down/out projection (read with a forward
pre-hook on that module). The forward pass stops right after the deepest requested layer,
so records for early layers cost only the blocks up to them.

The quantile samples need a second pass over the same sequences. When the layers' activations
fit under ``spill_limit`` bytes (and the disk has room), the first pass writes them to a
temporary file as float32 and the second pass reads them back instead of running the model
again: the records are identical either way, the run takes about half the time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from superpose.activations.records import FirstPass, LayerRecords, QuantilePass, finish
from superpose.config import RecordParams
from superpose.core.errors import SuperposeError
from superpose.models.device import module_device


def cut_sequences(tokenizer: Any, documents: Iterable[str], seq_len: int = RecordParams.seq_len,
                  max_tokens: int = RecordParams.max_tokens) -> np.ndarray:
    """(S, seq_len) int32 token ids: documents tokenised, joined and cut into full sequences.

    Documents are separated by the tokenizer's end-of-text token when it has one, so a
    sequence may span a document boundary, as in the usual packing of training text; the
    remainder shorter than ``seq_len`` is dropped.
    """
    sep = tokenizer.eos_token_id
    buffer: list[int] = []
    limit = (max_tokens // seq_len) * seq_len
    for doc in documents:
        if not doc.strip():
            continue
        buffer.extend(tokenizer.encode(doc, add_special_tokens=False))
        if sep is not None:
            buffer.append(int(sep))
        if len(buffer) >= limit:
            break
    n = min(len(buffer), limit) // seq_len
    if n == 0:
        raise SuperposeError(f"the corpus gave fewer than {seq_len} tokens; "
                             "choose a larger --corpus-source")
    return np.asarray(buffer[:n * seq_len], dtype=np.int32).reshape(n, seq_len)


class _StopForward(Exception):
    """Raised in the deepest hook: later blocks are not needed."""


Units = tuple[Callable[[Callable[[torch.Tensor], None]], Any], Callable[[torch.Tensor], torch.Tensor], int]


def forward_layers(model: torch.nn.Module, modules: Mapping[int, torch.nn.Module], sequences: np.ndarray,
                   batch_size: int, consume: Callable[[int, torch.Tensor, torch.Tensor], None],
                   progress: Callable[[int], None] | None, units: Units | None = None) -> None:
    """Forward every batch; ``consume(layer, acts (B, L, N), seq_ids)`` for each layer.

    The model runs on its own device and dtype; the activations reach ``consume`` as float32
    on the CPU, where the records are kept. ``units`` (one layer only): ``(install, encode,
    width)``, where ``install(keep)`` hooks the units' input and ``encode`` turns it into their
    activations, instead of the neurons. Public because the precision benchmark compares dtypes
    on this very pass.
    """
    captured: dict[int, torch.Tensor] = {}
    deepest = max(modules)
    device = module_device(model)

    def make_hook(layer: int) -> Callable[..., None]:
        def hook(_module: torch.nn.Module, args: tuple[Any, ...]) -> None:
            keep(layer, args[0])
        return hook

    def keep(layer: int, value: torch.Tensor) -> None:
        value = value.detach().to("cpu", torch.float32)
        captured[layer] = value if units is None else units[1](value)
        if layer == deepest:
            raise _StopForward

    if units is not None:
        handles = [units[0](lambda value: keep(deepest, value))]
    else:
        handles = [m.register_forward_pre_hook(make_hook(layer)) for layer, m in modules.items()]
    try:
        with torch.inference_mode():
            for start in range(0, len(sequences), batch_size):
                ids = torch.from_numpy(sequences[start:start + batch_size].astype(np.int64))
                captured.clear()
                try:
                    model(input_ids=ids.to(device), use_cache=False)
                except _StopForward:
                    pass
                seq_ids = torch.arange(start, start + ids.shape[0])
                for layer in modules:
                    consume(layer, captured[layer], seq_ids)
                if progress is not None:
                    progress(ids.shape[0])
    finally:
        for h in handles:
            h.remove()


SPILL_LIMIT = int(RecordParams.spill_limit_gb * (1 << 30))  # default: spill up to 8 GiB of activations to disk


def spill_bytes(n_sequences: int, seq_len: int, n_neurons: int, n_layers: int) -> int:
    """Disk space the spilled float32 activations of ``n_layers`` layers take."""
    return 4 * n_sequences * seq_len * n_neurons * n_layers


class _Spill:
    """float32 activations of every layer written batch by batch, then read back in order."""

    def __init__(self, folder: Path, layers: Iterable[int]) -> None:
        self.paths = {layer: folder / f"layer{layer}.f32" for layer in layers}
        self.writers = {layer: open(path, "wb") for layer, path in self.paths.items()}
        self.failed = False  # a write failed (disk full, ...): the second pass runs the model

    def write(self, layer: int, acts: torch.Tensor) -> None:
        if self.failed:
            return
        try:
            self.writers[layer].write(acts.contiguous().numpy().tobytes())
        except OSError:
            self.failed = True
            self.close()
            for path in self.paths.values():
                path.unlink(missing_ok=True)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()

    def replay(self, n_sequences: int, batch_size: int, shapes: Mapping[int, tuple[int, int]],
               consume: Callable[[int, torch.Tensor, torch.Tensor], None],
               progress: Callable[[int], None] | None) -> None:
        """``consume`` the stored batches exactly as the model pass gave them."""
        self.close()
        readers = {layer: open(path, "rb") for layer, path in self.paths.items()}
        try:
            for start in range(0, n_sequences, batch_size):
                b = min(batch_size, n_sequences - start)
                seq_ids = torch.arange(start, start + b)
                for layer, reader in readers.items():
                    length, width = shapes[layer]
                    flat = np.fromfile(reader, dtype=np.float32, count=b * length * width)
                    consume(layer, torch.from_numpy(flat.reshape(b, length, width)), seq_ids)
                if progress is not None:
                    progress(b)
        finally:
            for reader in readers.values():
                reader.close()


def _spill_folder(spill_dir: str | os.PathLike | None, needed: int, limit: int) -> Path | None:
    """A fresh temporary folder for the spill, or None when it is over the limit or the disk."""
    if needed > limit:
        return None
    parent = Path(spill_dir) if spill_dir is not None else Path(tempfile.gettempdir())
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(parent).free < needed + (1 << 30):
            return None
        return Path(tempfile.mkdtemp(prefix="superpose-spill-", dir=parent))
    except OSError as err:
        raise SuperposeError(f"cannot use {parent} for the spill file ({err.strerror}): pass a "
                             "writable folder as --spill-dir, or --spill-limit 0") from None


def collect_records(model: torch.nn.Module, modules: Mapping[int, torch.nn.Module],
                    sequences: np.ndarray, *, top_k: int = RecordParams.top_k,
                    n_random: int = RecordParams.n_random, per_quantile: int = RecordParams.per_quantile,
                    batch_size: int = RecordParams.batch_size, seed: int = RecordParams.seed,
                    progress: Callable[[int], None] | None = None,
                    spill_limit: int = SPILL_LIMIT, spill_dir: str | os.PathLike | None = None,
                    report: dict[str, Any] | None = None, units: Units | None = None
                    ) -> dict[int, LayerRecords]:
    """Records of every neuron of the layers in ``modules`` (layer -> MLP out projection).

    Two passes when ``per_quantile > 0`` (see :mod:`superpose.activations.records`), one otherwise.
    The second pass replays activations spilled to ``spill_dir`` (default: the system's
    temporary folder) when they take at most ``spill_limit`` bytes; otherwise it runs the model
    again. ``report``, when given, receives ``second_pass``: "spilled", "model" or "none".
    ``units`` records other units of the one layer in ``modules`` (see :func:`forward_layers`).
    """
    if not modules:
        raise SuperposeError("no layers chosen")
    if units is not None and len(modules) != 1:
        raise SuperposeError("records of SAE latents or concepts cover their own layer only")
    seq_len = sequences.shape[1]
    first: dict[int, FirstPass] = {}
    second: dict[int, QuantilePass] = {}
    spill: _Spill | None = None
    folder = None
    if per_quantile > 0:
        n_neurons = _n_inputs(modules[max(modules)]) if units is None else units[2]
        needed = spill_bytes(len(sequences), seq_len, n_neurons, len(modules))
        folder = _spill_folder(spill_dir, needed, spill_limit) if n_neurons else None
    try:
        if folder is not None:
            spill = _Spill(folder, modules)

        def consume_first(layer: int, acts: torch.Tensor, seq_ids: torch.Tensor) -> None:
            if layer not in first:
                first[layer] = FirstPass(acts.shape[-1], seq_len, top_k, n_random, seed + layer)
            first[layer].update(acts, seq_ids)
            if spill is not None:
                spill.write(layer, acts)

        forward_layers(model, modules, sequences, batch_size, consume_first, progress, units)
        if per_quantile > 0:
            second = {layer: QuantilePass(fp.histogram(), seq_len, per_quantile,
                                          seed=seed + 1000 + layer) for layer, fp in first.items()}

            def consume_second(layer: int, acts: torch.Tensor, seq_ids: torch.Tensor) -> None:
                second[layer].update(acts, seq_ids)

            if spill is not None and not spill.failed:
                shapes = {layer: (seq_len, fp.n_neurons) for layer, fp in first.items()}
                spill.replay(len(sequences), batch_size, shapes, consume_second, progress)
            else:
                forward_layers(model, modules, sequences, batch_size, consume_second, progress, units)
        if report is not None:
            report["second_pass"] = ("none" if per_quantile <= 0 else "spilled"
                                     if spill is not None and not spill.failed else "model")
    finally:
        if spill is not None:
            spill.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return {layer: finish(first[layer], second.get(layer)) for layer in modules}


def _n_inputs(module: torch.nn.Module) -> int:
    """Input width of the MLP out projection (Linear or GPT-2's Conv1D); 0 when unknown."""
    weight = getattr(module, "weight", None)
    if weight is None or weight.dim() != 2:
        return 0
    if hasattr(module, "in_features"):
        return int(module.in_features)
    return int(weight.shape[0])  # GPT-2 Conv1D stores (in, out)
