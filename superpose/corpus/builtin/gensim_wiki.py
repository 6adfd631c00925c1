"""The built-in corpus source ``gensim-wiki`` (found by file: see superpose.corpus.sources)."""

from __future__ import annotations

from superpose.core.packages import package_folder
from superpose.core.provenance import package_version
from superpose.corpus.sources import Source, filter_markup, read_wikipedia_pages, require_file


def locate() -> Source:
    install = "pip install gensim"
    name = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    path = package_folder("gensim", install) / "test" / "test_data" / name
    return Source("gensim-wiki", "builtin", str(require_file(path, install)), "gensim",
                  package_version("gensim"), read_wikipedia_pages, filter_markup)


SOURCE = locate
