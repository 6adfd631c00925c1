"""Reference corpus: sources, tokens, exact window counts, the on-disk format and NPMI."""

from superpose.corpus.build import CorpusParams, build_corpus
from superpose.corpus.npmi import coherence, npmi_matrix
from superpose.corpus.sources import BUILTIN_SOURCES, DEFAULT_SOURCES, iter_documents, resolve_sources
from superpose.corpus.store import CorpusCounts, load_corpus, read_meta

__all__ = ["BUILTIN_SOURCES", "DEFAULT_SOURCES", "CorpusCounts", "CorpusParams", "build_corpus",
           "coherence", "iter_documents", "load_corpus", "npmi_matrix", "read_meta", "resolve_sources"]
