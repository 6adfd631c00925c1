"""The built-in corpus source ``gcide`` (found by file: see superpose.corpus.sources)."""

from __future__ import annotations

import os
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.corpus.sources import Source, debian_version, read_gcide


def locate() -> Source:
    path = Path(os.environ.get("SUPERPOSE_GCIDE_INDEX", "/usr/share/dictd/gcide.index"))
    if not path.is_file() or not path.with_name(path.name.replace(".index", ".dict.dz")).is_file():
        raise SuperposeError("the GCIDE dictionary is not installed: run `apt-get install dict-gcide`")
    return Source("gcide", "builtin", str(path), "dict-gcide (Debian)", debian_version("dict-gcide"),
                  read_gcide)


SOURCE = locate
