"""Process-wide settings that only the command line may make (library code never does)."""

from __future__ import annotations

from superpose.core.errors import SuperposeError


def set_torch_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count for this process (None: leave torch's choice)."""
    if threads is None:
        return
    if isinstance(threads, bool) or threads < 1:
        raise SuperposeError(f"--threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(int(threads))
