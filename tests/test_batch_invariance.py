"""A unit's projection, pools and topics depend on the unit alone: not on the batch size, the
other units in the batch, the slice, the thread count or the executor (issue: same command, same
topics). Tiny models of every family, plus the default model for ``mine_unit`` (slow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from superpose.config import ExecutionConfig, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.projection import exact as exact_module
from superpose.projection import project as project_module
from superpose.projection.exact import BatchInvariant, det_erf, det_exp, det_sigmoid, det_tanh, exact_linear
from superpose.projection.project import project_layer, ranked
from tests.mining_helpers import PARAMS, make_corpus, make_model
from tests.model_helpers import BUILDERS, save_tiny

ARRAYS = ("neurons", "top_ids", "top_logits", "bottom_ids", "bottom_logits")


class threads:
    """torch's thread count inside the block, restored after (tests only)."""

    def __init__(self, n: int) -> None:
        self.n, self.before = n, torch.get_num_threads()

    def __enter__(self) -> None:
        torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def tiny(request, tmp_path_factory):
    return load_model(save_tiny(request.param, tmp_path_factory.mktemp(request.param)))


def _rows(projection, rows) -> dict[str, bytes]:
    return {name: getattr(projection, name)[rows].tobytes() for name in ARRAYS}


@pytest.mark.parametrize("mode", ["hi-c", "hi-i", "lo-c", "lo-i"])
def test_a_unit_alone_in_a_slice_and_in_the_layer_is_the_same_bytes(tiny, mode):
    tau = 30
    with threads(1):
        layer = project_layer(tiny, mode, 0, tau=tau, batch_size=5)
    units = layer.neurons
    with threads(2):
        big = project_layer(tiny, mode, 0, tau=tau, batch_size=len(units))
    alone = project_layer(tiny, mode, 0, [int(units[7])], tau=tau, batch_size=1)
    piece = project_layer(tiny, mode, 0, units[3:11][::-1], tau=tau, batch_size=3)
    assert _rows(big, slice(None)) == _rows(layer, slice(None))
    assert _rows(alone, slice(None)) == _rows(layer, [7])
    assert _rows(piece, slice(None)) == _rows(layer, list(range(10, 2, -1)))


def test_exact_ranking_is_the_float32_ranking_up_to_near_ties(tiny):
    exact = project_layer(tiny, "hi-c", 0, tau=20)
    plain = project_layer(tiny, "hi-c", 0, tau=20, full_blocks=True)
    np.testing.assert_allclose(exact.top_logits, plain.top_logits, rtol=1e-4, atol=1e-4)
    overlap = np.mean([len(set(a) & set(b)) / 20 for a, b in zip(exact.top_ids, plain.top_ids, strict=True)])
    assert overlap > 0.95


def test_ranked_breaks_ties_by_token_id_and_ignores_other_rows():
    gen = torch.Generator().manual_seed(0)
    scores = torch.randint(-5, 6, (6, 400), generator=gen).to(torch.float64)  # many exact ties
    for largest in (True, False):
        ids, values = ranked(scores, 37, largest=largest)
        for row in range(6):
            key = -scores[row].numpy() if largest else scores[row].numpy()
            want = np.lexsort((np.arange(400), key))[:37]
            assert ids[row].tolist() == want.tolist()
            assert values[row].tolist() == scores[row, want].tolist()
            alone, _ = ranked(scores[row:row + 1], 37, largest=largest)
            assert alone[0].tolist() == want.tolist()


def test_ranked_takes_every_token_when_tau_is_the_vocabulary():
    scores = torch.tensor([[3.0, 1.0, 3.0, 2.0]], dtype=torch.float64)
    assert ranked(scores, 4, largest=True)[0].tolist() == [[0, 2, 3, 1]]
    assert ranked(scores, 4, largest=False)[0].tolist() == [[1, 3, 0, 2]]


@pytest.mark.parametrize("vocab", [1007, 1024, 16 * 37, 40])
def test_extremes_cut_holds_every_tie_without_a_second_try(vocab, monkeypatch):
    """Scores in 9 values (about 110 tokens each): the tau-th score is tied across many groups.
    The answer must be the full sort's, and the groups' cut must hold at least tau tokens at the
    first try (a cut that left out the ties at it, or a padding place counted as a token of another
    group, would fall back to sorting whole rows: correct, but the proof would be wrong)."""
    calls = []
    first_try = project_module._sorted_candidates

    def counted(part, mask, tau, largest):
        calls.append(int(mask.sum()))
        return first_try(part, mask, tau, largest)

    monkeypatch.setattr(project_module, "_sorted_candidates", counted)
    gen = torch.Generator().manual_seed(vocab)
    scores = torch.randint(-4, 5, (5, vocab), generator=gen).to(torch.float64)
    scores[1] = torch.arange(vocab, dtype=torch.float64) % 7  # ties in every group
    scores[2, -1] = 100.0  # the last token (the padding's source when 16 does not divide vocab) on top
    scores[3, -1] = -100.0
    for tau in (1, 2, 37, -(-vocab // 16)):
        calls.clear()
        both = project_module._extremes_torch(scores, tau, (True, False))  # the torch path
        assert len(calls) == 2  # one cut per end
        if tau <= -(-vocab // 16):  # else every token is a candidate (a small vocabulary)
            assert max(calls) < 5 * vocab
        for (ids, values), largest in zip(both, (True, False), strict=True):
            for row in range(5):
                key = -scores[row].numpy() if largest else scores[row].numpy()
                want = np.lexsort((np.arange(vocab), key))[:tau]
                assert ids[row].tolist() == want.tolist()
                assert values[row].tolist() == scores[row, want].tolist()


def test_float32_rounding_of_inputs_is_the_float64_rounding():
    """The input rows are rounded in float32 where that gives the same numbers: rows of every
    scale, zero rows, rows with subnormal entries and tiny rows (which take the float64 path)."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(12, 700, generator=gen) * torch.logspace(-30, 30, 12)[:, None]
    x[0] = 0.0
    x[1, ::3] = 1e-42  # subnormal entries in a row of normal ones
    x[2] = torch.randn(700, generator=gen) * 1e-35  # largest magnitude below 2**-100
    x[3] = -x[3].abs()
    x[4] = 0.0
    x[4, :4] = torch.tensor([1.0, 2.5 * 2.0 ** -21, -0.5 * 2.0 ** -21, 3.5 * 2.0 ** -21])  # ties to even, -0
    for bits in (21, 22):
        got = exact_module._quantize(x, bits)
        want = exact_module._quantize(x.double(), bits)  # the float64 path
        assert torch.equal(got, want)
        assert torch.equal(torch.signbit(got), torch.signbit(want))


def test_exact_linear_is_exact_in_any_order_and_close_to_float32():
    gen = torch.Generator().manual_seed(1)
    x, w = torch.randn(9, 1536, generator=gen), torch.randn(40, 1536, generator=gen)
    out = exact_linear(x, w, out_dtype=torch.float64)
    perm = torch.randperm(1536, generator=gen)
    assert torch.equal(exact_linear(x[:, perm], w[:, perm].contiguous(), out_dtype=torch.float64), out)
    assert torch.equal(exact_linear(x[4:5], w, out_dtype=torch.float64), out[4:5])
    torch.testing.assert_close(out.float(), x @ w.T, rtol=1e-5, atol=2e-4)


def test_transcendentals_are_accurate_and_the_same_wherever_the_element_sits():
    x = torch.linspace(-30, 30, 100_003, dtype=torch.float32)
    x64 = x.double()
    for mine, ref, tol in ((det_exp, torch.exp, 1e-14), (det_sigmoid, torch.sigmoid, 1e-6),
                           (det_tanh, torch.tanh, 1e-6), (det_erf, torch.erf, 1e-14)):
        got = mine(x64 if tol < 1e-10 else x)
        torch.testing.assert_close(got.double(), ref(x64), rtol=tol, atol=tol)
        singles = torch.cat([mine(x[i:i + 1].double() if tol < 1e-10 else x[i:i + 1]) for i in range(0, 100_003, 997)])
        assert torch.equal(singles, got[::997])


def test_an_unknown_function_is_refused_under_the_mode():
    with BatchInvariant(), pytest.raises(SuperposeError, match="softmax"):
        torch.softmax(torch.ones(2, 3), dim=-1)


# --- mined files ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("invariance")
    return make_model(folder), make_corpus(folder)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.name.endswith(("_pool.txt", "_isets.csv", "_topics.csv"))}


def _mined(inputs, out: Path, *, neurons: str | None = None, executor: str = "local",
           workers: int = 1) -> dict[str, bytes]:
    from superpose.pipeline import mine

    model, corpus = inputs
    folder = mine(str(model), str(corpus), str(out), layers="1", neurons=neurons, layout="paper",
                  projection=ProjectionConfig(tau=40), mining=MiningConfig(**PARAMS),
                  execution=ExecutionConfig(executor=executor, workers=workers), progress=False)
    return _files(folder)


def test_mined_files_do_not_depend_on_batch_threads_executor_or_slice(inputs, tmp_path, monkeypatch):
    with threads(1):
        whole = _mined(inputs, tmp_path / "whole")
    assert any(b for name, b in whole.items() if name.endswith("_topics.csv"))  # topics to compare
    monkeypatch.setattr(project_module, "auto_batch", lambda lm, size: 3)
    with threads(2):
        small_batches = _mined(inputs, tmp_path / "small", executor="serial")
    alone = _mined(inputs, tmp_path / "alone", neurons="13")
    piece = _mined(inputs, tmp_path / "piece", neurons="10-20", workers=2)
    assert small_batches == whole
    assert alone == {k: v for k, v in whole.items() if k.startswith("1_13_")}
    assert piece == {k: v for k, v in whole.items() if 10 <= int(k.split("_")[1]) <= 20}

    from superpose.mining.baseline import baseline

    run = tmp_path / "whole" / "tiny-llama" / "hi-c"
    every = _files(baseline(str(run), seed=3, progress=False))
    one = _files(baseline(str(tmp_path / "alone" / "tiny-llama" / "hi-c"), seed=3, progress=False))
    assert one and one == {k: v for k, v in every.items() if k.startswith("1_13_")}


@pytest.mark.slow
def test_mine_unit_equals_the_whole_layer_on_the_default_model(tmp_path):
    """Layer 27 (two blocks after it), every neuron, against neurons mined alone."""
    from superpose.api import mine_unit
    from superpose.corpus.store import load_corpus
    from superpose.mining.pool import mine_pool
    from superpose.projection.run import CorpusWords, project_to_files
    from superpose.projection.store import load_layer

    corpus_dir = Path(__file__).resolve().parent.parent / "corpus" / "build" / "default"
    if not corpus_dir.is_dir():
        pytest.skip("the default corpus is not built (make corpus)")
    lm = load_model("smollm2-135m")
    counts = load_corpus(corpus_dir, mmap=True)
    [path] = project_to_files(lm, "hi-c", [27], tmp_path, corpus=CorpusWords.from_counts(counts, corpus_dir))
    layer = load_layer(path)
    for unit, polarity in ((406, "pos"), (1000, "neg"), (3, "pos")):
        alone = mine_unit(lm, counts, 27, unit, polarity=polarity)
        pool = layer.pool(layer.row(unit), polarity)
        assert alone.pool == [counts.vocab[w] for w in pool.tolist()]
        whole = mine_pool(np.asarray(pool), counts, MiningConfig())
        assert [sorted(counts.vocab[w] for w in t.words) for t in whole.topics] == \
            [t.words for t in alone.topics]
        assert [t.score for t in whole.topics] == [t.score for t in alone.topics]
