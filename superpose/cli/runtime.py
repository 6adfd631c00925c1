"""Process-wide settings that only the command line may make (library code never does)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from superpose.core.errors import SuperposeError


def set_torch_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count for this process (None: leave torch's choice)."""
    if threads is None:
        return
    if isinstance(threads, bool) or threads < 1:
        raise SuperposeError(f"--threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(int(threads))


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def _transformers_bars_off() -> Iterator[None]:
    """transformers draws its own bars ("Loading weights", GGUF conversion) unless its switch is
    off; the switch is read when a bar starts, so turning it off for the command works even where
    transformers was imported before. Both its switch and the hub's are put back afterwards."""
    try:
        from huggingface_hub import utils as hub
        from transformers.utils import logging as hf_logging
    except ImportError:  # without transformers there are no such bars
        yield
        return
    was_on, hub_was_off = hf_logging.is_progress_bar_enabled(), hub.are_progress_bars_disabled()
    hf_logging.disable_progress_bar()  # turns the hub's bars off too
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()  # turns the hub's bars on too
        (hub.disable_progress_bars if hub_was_off else hub.enable_progress_bars)()


@contextlib.contextmanager
def quiet_progress(quiet: bool) -> Iterator[None]:
    """With ``quiet`` (``--no-progress``), hide every progress bar of the command, also those of model
    loading, conversion and downloads in other libraries: transformers' and the hub's own switches
    (put back afterwards), and ``TQDM_DISABLE`` for the processes the command starts (tqdm reads it
    when imported, which in this process already happened with torch). The environment is
    restored afterwards."""
    if not quiet:
        yield
        return
    with _environ("TQDM_DISABLE", "1"), _environ("HF_HUB_DISABLE_PROGRESS_BARS", "1"), \
            _transformers_bars_off():
        yield
