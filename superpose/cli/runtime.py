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
def quiet_progress(quiet: bool) -> Iterator[None]:
    """With ``quiet`` (``--no-progress``), hide every progress bar of the command, also those of model
    conversion and downloads in other libraries: tqdm reads ``TQDM_DISABLE`` when first imported, which
    in a CLI process happens inside the command. The environment is restored afterwards."""
    if not quiet:
        yield
        return
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = previous
