"""Index lists written as ranges (``0-29``, ``3,15,27``, ``0-5,10``, ``0-1535/8``, ``all``) for the CLI."""

from __future__ import annotations

import re

from superpose.core.errors import SuperposeError

_PART = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*(?:/\s*(\d+)\s*)?)?$")


def parse_range(text: str | None, size: int, what: str = "index") -> list[int]:
    """Sorted distinct indices in ``[0, size)`` named by ``text``; ``None`` or ``all`` is all.

    ``what`` names the indices in error messages ("layer", "neuron").
    """
    valid = f"valid {what}s are 0-{size - 1}" if size > 0 else f"there are no {what}s"
    if text is None or text.strip().lower() in ("all", "*"):
        return list(range(size))
    chosen: set[int] = set()
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise SuperposeError(f"bad {what} range {text!r}: use forms like 0-29, 3,15,27, 0-99/10 (every "
                                 f"tenth) or all ({valid})")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) is not None else low
        if low > high:
            raise SuperposeError(f"bad {what} range {part.strip()!r}: the start is after the end "
                                 f"({valid})")
        if high >= size:
            raise SuperposeError(f"{what} {high} is out of range: {valid}")
        step = int(match.group(3)) if match.group(3) is not None else 1
        if step < 1:
            raise SuperposeError(f"bad {what} range {part.strip()!r}: the step must be at least 1 ({valid})")
        chosen.update(range(low, high + 1, step))
    return sorted(chosen)


def format_range(indices: list[int]) -> str:
    """The shortest ``parse_range`` text for sorted distinct indices (``[0,1,2,5]`` -> ``0-2,5``)."""
    parts: list[str] = []
    start = prev = None
    for i in indices:
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)
