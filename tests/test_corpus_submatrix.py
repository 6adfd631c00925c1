"""The compiled pool paths (pair-count submatrix, NPMI once per pair, star heuristic) give exactly
what the numpy/scipy paths they replace give: the same counts, the same doubles, the same groups."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from superpose.corpus.npmi import _symmetric_npmi, npmi_from_counts
from superpose.corpus.store import CorpusCounts
from superpose.corpus.submatrix import NARROW_COLUMNS, dense_submatrix, is_symmetric, lower_rows
from superpose.mining.shortlist import star_heuristic, star_heuristic_reference


def _counts_matrix(size: int, density: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    upper = sp.random(size, size, density=density, random_state=rng, format="csr",
                      data_rvs=lambda n: rng.integers(1, 500, n))
    upper = sp.triu(upper, k=1)
    matrix = (upper + upper.T).tocsr().astype(np.int64)
    matrix.sort_indices()
    return matrix


@pytest.mark.parametrize("seed", range(4))
def test_submatrix_equals_scipy_fancy_indexing(seed: int) -> None:
    matrix = _counts_matrix(300, 0.05 * (seed + 1), seed)
    assert is_symmetric(matrix)
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(300)[: rng.integers(1, 120)] for _ in range(30)]
    pools += [np.array([7, 7, 3, 0, 7]), np.arange(300), np.array([299]), np.array([], dtype=np.int64)]
    lower = lower_rows(matrix)
    starts, columns = lower
    assert columns.dtype == np.uint16 and len(columns) == (matrix.nnz + np.count_nonzero(matrix.diagonal())) // 2
    for ids in pools:
        expected = matrix[ids][:, ids].toarray()
        for found in (dense_submatrix(matrix, ids, symmetric=True), dense_submatrix(matrix, ids, True, lower)):
            assert found.dtype == expected.dtype and np.array_equal(found, expected)


def test_lower_rows_hold_each_row_up_to_its_diagonal() -> None:
    matrix = _counts_matrix(50, 0.3, 1)
    matrix.setdiag(np.arange(50) % 3)  # some stored diagonal entries, read from the lower part too
    matrix.eliminate_zeros()
    matrix.sort_indices()
    starts, columns = lower_rows(matrix)
    for word in range(50):
        row = matrix.indices[matrix.indptr[word]:matrix.indptr[word + 1]]
        assert columns[starts[word]:starts[word + 1]].tolist() == row[row <= word].tolist()
    ids = np.array([4, 0, 17, 33, 49, 8])
    assert np.array_equal(dense_submatrix(matrix, ids, True, (starts, columns)), matrix[ids][:, ids].toarray())
    wide = sp.csr_matrix((NARROW_COLUMNS + 1, NARROW_COLUMNS + 1), dtype=np.int64)
    assert lower_rows(wide) is None  # column ids would not fit uint16


def test_submatrix_of_an_asymmetric_matrix_takes_scipys_path() -> None:
    matrix = sp.csr_matrix(np.array([[0, 5, 0], [1, 0, 2], [0, 0, 0]], dtype=np.int64))
    assert not is_symmetric(matrix)
    counts = CorpusCounts(["a", "b", "c"], np.ones(3, np.int64), np.ones(3, np.int64), matrix, 10)
    assert not counts.symmetric
    assert np.array_equal(counts.pair_counts([0, 1, 2]), matrix.toarray())
    with pytest.raises(IndexError):
        dense_submatrix(_counts_matrix(5, 0.5, 0), np.array([0, 5]), symmetric=True)


def test_symmetric_npmi_is_bit_identical_to_the_elementwise_formula() -> None:
    matrix = _counts_matrix(200, 0.2, 7)
    rng = np.random.default_rng(7)
    n_windows = 4000
    single = rng.integers(1, 600, 200).astype(np.float64)
    single[:3] = n_windows  # words in every window: pairs in every window score 1
    pair = matrix.toarray()
    pair[0, 1] = pair[1, 0] = n_windows
    for ids in (np.arange(200), rng.permutation(200)[:37], np.array([0, 1, 2, 5])):
        sub = pair[np.ix_(ids, ids)]
        expected = npmi_from_counts(sub, single[ids][:, None], single[ids][None, :], n_windows)
        np.fill_diagonal(expected, 0.0)
        found = _symmetric_npmi(sub, single[ids], n_windows)
        assert found.tobytes() == expected.tobytes()


def test_compiled_star_heuristic_equals_the_numpy_walk() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 50))
        w = np.round(rng.random((n, n)) * 8) / 8 - 0.25  # many ties in means and in neighbour weights
        w = (w + w.T) / 2
        for theta, kappa in (((0.1, 1.0), (10, 24)), ((0.0, 0.5), (2, 5)), ((-1.0, 1.0), (1, 3))):
            assert star_heuristic(w, theta, kappa) == star_heuristic_reference(w, theta, kappa)
