"""The built-in corpus sources: one module each, defining ``SOURCE() -> Source``; the file name
(underscores read as hyphens) is the ``--source`` name (see :mod:`superpose.core.registry`)."""
