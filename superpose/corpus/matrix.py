"""A published NPMI matrix used as a reference corpus as it is: memory-mapped, never recounted.

Lim & Lauw released their Wikipedia reference as a dense matrix (``wiki_npmi_wsz10_mf100.npy``:
float16, 40k x 40k, 3.2 GB) with ``vocab2id.pkl`` (word -> row). ``superpose corpus import
--format npmi-matrix`` writes a corpus folder that holds the vocabulary (``vocab.txt``, line
number = row) and a ``meta.json`` naming the matrix file, which stays where it is (absolute path,
size and sha256 recorded). :class:`NpmiMatrix` reads the rows and columns a pool needs from the
memory-mapped file, so every stage that reads NPMI (``coherence``, ``mine``, ``baseline``, the
API) uses the published values directly. A matrix has no window counts: which pairs never share
a window is not known (``never_cooccur`` is -1 in mined topics, null in ``coherence --json``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.corpus.npmi_source import NpmiSource, PairScores

MATRIX_DTYPES = ("float16", "float32", "float64")


class NpmiMatrix(NpmiSource):
    """NPMI read from a square matrix over the vocabulary (usually a memory-mapped ``.npy``)."""

    n_windows = None

    def __init__(self, vocab: list[str], matrix: np.ndarray, meta: dict):
        self.vocab = vocab
        self.matrix = matrix
        self.meta = meta

    def scores(self, ids: np.ndarray | list[int]) -> PairScores:
        ids = np.asarray(ids, dtype=np.int64)
        values = np.asarray(self.matrix[np.ix_(ids, ids)], dtype=np.float64)
        np.fill_diagonal(values, 0.0)
        return PairScores(values, None)


def matrix_header(path: Path) -> tuple[tuple[int, ...], np.dtype, bool, int]:
    """Shape, dtype, Fortran order and data offset of a ``.npy`` file, or a one-line error."""
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            return shape, dtype, fortran, fh.tell()
    except (OSError, ValueError) as err:
        raise SuperposeError(f"{path} is not a readable .npy file ({err}): give the NPMI matrix (.npy)") from err


def open_matrix(path: Path, size: int) -> np.ndarray:
    """The matrix file memory-mapped, checked: square, ``size`` rows, float, complete."""
    shape, dtype, _fortran, offset = matrix_header(path)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise SuperposeError(f"{path} holds an array of shape {shape}, not a square matrix: give the NPMI matrix")
    if shape[0] != size:
        raise SuperposeError(f"{path} has {shape[0]:,} rows but the vocabulary has {size:,} words: give the "
                             "vocabulary published with this matrix")
    if dtype.name not in MATRIX_DTYPES:
        raise SuperposeError(f"{path} holds {dtype}, not floats ({', '.join(MATRIX_DTYPES)}): give the NPMI matrix")
    expected = offset + shape[0] * shape[1] * dtype.itemsize
    actual = path.stat().st_size
    if actual != expected:
        raise SuperposeError(f"{path} is {actual:,} bytes, its header says {expected:,}: the file is incomplete; "
                             "download it again")
    return np.load(path, mmap_mode="r")


def load_matrix(folder: Path, meta: dict) -> NpmiMatrix:
    """The :class:`NpmiMatrix` of an imported corpus folder."""
    path = Path(meta["npmi_file"])
    if not path.is_file():
        raise SuperposeError(f"the NPMI matrix {path} of {folder} is missing: put it back or import it again with "
                             "`superpose corpus import --format npmi-matrix`")
    if path.stat().st_size != meta["npmi_bytes"]:
        raise SuperposeError(f"the NPMI matrix {path} of {folder} has changed since it was imported (size): "
                             "import it again")
    try:
        vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    except OSError as err:
        raise SuperposeError(f"corpus folder {folder} is incomplete ({err}): import it again") from err
    if len(vocab) != meta["vocab_size"]:
        raise SuperposeError(f"corpus folder {folder} is inconsistent (vocabulary size): import it again")
    return NpmiMatrix(vocab, open_matrix(path, len(vocab)), meta)


__all__ = ["MATRIX_DTYPES", "NpmiMatrix", "load_matrix", "matrix_header", "open_matrix"]
