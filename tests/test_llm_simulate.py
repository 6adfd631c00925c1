"""The all-at-once simulator's expected values on tiny models with a known next-token law."""

import functools
import math

import numpy as np
import pytest
import torch

from superpose.activations.formats import ActivationRecord, NeuronRecords
from superpose.explainer.simulators.all_at_once import AllAtOnceSimulator, numeral_token_ids
from superpose.explainer.simulators.base import expected_values


class CharTokenizer:
    """One token per character (code point < 256), like a byte tokenizer: "10" is two tokens."""

    eos_token_id = None

    def encode(self, text, add_special_tokens=False):
        return [min(ord(c), 255) for c in text]

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": ([1] if add_special_tokens else []) + self.encode(text)}


class PreviousTokenModel(torch.nn.Module):
    """Logits at position t are ``table[input_ids[t - 1]]``: the token before the tab decides."""

    def __init__(self, table, accepts_keep=True):
        super().__init__()
        self.table = table
        self.accepts_keep = accepts_keep

    def forward(self, input_ids, attention_mask=None, **kwargs):
        if "logits_to_keep" in kwargs and not self.accepts_keep:
            raise TypeError("unexpected keyword argument 'logits_to_keep'")
        prev = torch.cat([torch.zeros_like(input_ids[:, :1]), input_ids[:, :-1]], dim=1)
        logits = self.table[prev]
        keep = kwargs.get("logits_to_keep")
        if keep is not None:
            logits = logits[keep][None]
        return type("Out", (), {"logits": logits})()


def _table():
    table = torch.zeros(256, 256)
    table[ord("!"), :] = -1e9
    table[ord("!"), ord("7")] = 0.0  # after "...!<tab>": surely 7
    table[ord("?"), :] = -1e9
    table[ord("?"), ord("2")] = math.log(3.0)  # p(2) = 0.75, p(8) = 0.25
    table[ord("?"), ord("8")] = 0.0
    return table  # any other token: uniform over everything, so uniform over numerals


@pytest.mark.parametrize("accepts_keep", [True, False])
def test_expected_values_follow_the_known_distribution(accepts_keep):
    sim = AllAtOnceSimulator(PreviousTokenModel(_table(), accepts_keep), CharTokenizer(), "toy",
                             batch_size=2, reuse_prefix=False)
    assert sim.top == 9  # "10" is two characters, so the 0-9 scale is used
    out = sim.simulate("anything", [["a!", " b", " c?"], ["x?"], ["!"]])
    scale = 10 / 9
    assert out[0] == pytest.approx([7 * scale, 4.5 * scale, 3.5 * scale])
    assert out[1] == pytest.approx([3.5 * scale])
    assert out[2] == pytest.approx([7 * scale])


def test_expected_values_function_and_single_token_ten():
    logits = np.log(np.array([[0.5] + [1e-300] * 9 + [0.5], [1.0] + [1e-300] * 10]))
    assert expected_values(logits, 10) == pytest.approx([5.0, 0.0], abs=1e-6)

    class WordTokenizer(CharTokenizer):
        def encode(self, text, add_special_tokens=False):
            return [int(text)] if text.isdigit() else super().encode(text)

    assert numeral_token_ids(WordTokenizer()) == list(range(11))


def test_prompt_reads_right_after_each_tab():
    sim = AllAtOnceSimulator(PreviousTokenModel(_table()), CharTokenizer(), "toy",
                             reuse_prefix=False)
    ids, positions = sim.prompt_ids("days", ["Mon", "\n"])
    assert len(positions) == 2
    assert all(ids[p] == ord("\t") for p in positions)
    text = "".join(chr(i) for i in ids[1:])
    assert "Explanation: days\nMon\tunknown\n\\n\tunknown\n" in text
    assert " bus\t9\n" in text  # the example row is on the same 0-9 scale


def test_batched_and_prefix_cached_runs_match_a_full_forward_on_a_tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=256, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2)
    model = LlamaForCausalLM(config).eval()
    sequences = [["The", " cat"], [" sat", " on", " a", " mat"]]
    batched = AllAtOnceSimulator(model, CharTokenizer(), "tiny", batch_size=2,
                                 reuse_prefix=False)
    got = batched.simulate("cats", sequences)
    cached = AllAtOnceSimulator(model, CharTokenizer(), "tiny").simulate("cats", sequences)
    for seq, values, again in zip(sequences, got, cached, strict=True):
        assert again == pytest.approx(values, abs=1e-4)
        ids, positions = batched.prompt_ids("cats", seq)
        with torch.no_grad():
            full = model(input_ids=torch.tensor([ids])).logits[0, positions]
        want = expected_values(full[:, batched.numerals].numpy(), batched.top)
        assert values == pytest.approx(want, abs=1e-4)
    assert batched._readout, "a LLaMA's numerals are read off its body and output rows"


def test_score_explanation_end_to_end_with_the_toy_model():
    from superpose.explainer.scorers import score_explanation

    sim = AllAtOnceSimulator(PreviousTokenModel(_table()), CharTokenizer(), "toy",
                             reuse_prefix=False)

    def rec(tokens, acts, kind, seq):
        return ActivationRecord(tokens, np.array(acts, dtype=float), seq, kind)

    # The toy simulator says 7.8 after "!" and 5 elsewhere: a perfect neuron for "!" tokens.
    top = [rec(["a", "!", "b"], [0, 3, 0], "top", i) for i in range(8)]
    rand = [rec(["c", "d", "e!"], [0, 0, 3], "random", 10 + i) for i in range(4)]
    scores = score_explanation("exclamations", NeuronRecords("m", 0, 0, top, rand), sim)
    assert scores.correlation.value == pytest.approx(1.0)
    assert scores.r2.value == pytest.approx(1.0)
    assert scores.n_tokens == 3 * (2 + 2)
    dead = [rec(["a"], [0.0], "top", i) for i in range(8)]
    flat = score_explanation("x", NeuronRecords("m", 0, 0, dead, []), sim)
    assert flat.correlation.value is None


def test_chat_numbers_fallback_parses_replies_and_reports_bad_ones():
    from superpose.explainer.clients import ChatClient
    from superpose.explainer.simulators.base import SimulationError
    from superpose.explainer.simulators.chat_numbers import ChatNumbersSimulator

    class Scripted(ChatClient):
        name = "scripted"

        def __init__(self, reply):
            super().__init__()
            self.reply = reply

        def _complete(self, request):
            assert "2 numbered tokens" in request["messages"][0]["content"]
            return self.reply

    sim = ChatNumbersSimulator(Scripted("1\t7\n2\t0"))
    assert "FALLBACK" in sim.method
    (values,) = sim.simulate("days", [["On", " Monday"]])
    assert values.tolist() == [7.0, 0.0]
    with pytest.raises(SimulationError):
        ChatNumbersSimulator(Scripted("I think 7")).simulate("days", [["On", " Monday"]])


def test_contrast_variant_subtracts_the_neutral_explanation_and_reuses_predictions():
    from superpose.explainer.simulators.contrast import ContrastSimulator

    model = PreviousTokenModel(_table())
    calls = []
    original = model.forward
    model.forward = lambda *a, **k: calls.append(1) or original(*a, **k)
    base = AllAtOnceSimulator(model, CharTokenizer(), "toy", reuse_prefix=False, batch_size=8)
    contrast = ContrastSimulator(base)
    assert "contrast variant" in contrast.method
    seqs = [["a!", " b"], ["c?"]]
    # The toy model ignores the explanation, so nothing is left after the subtraction.
    assert all(np.allclose(v, 0) for v in contrast.simulate("days", seqs))
    assert len(calls) == 2  # one batch for "days", one for the neutral explanation
    base.simulate("days", seqs)
    contrast.simulate("numbers", seqs)
    assert len(calls) == 3  # only "numbers" was new


def _tiny_llama(**extra):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=256, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, **extra)
    return LlamaForCausalLM(config).eval()


def _full_forward_values(sim, model, explanation, seq):
    ids, positions = sim.prompt_ids(explanation, seq)
    with torch.no_grad():
        full = model(input_ids=torch.tensor([ids])).logits[0, positions]
    return expected_values(full[:, sim.numerals].numpy(), sim.top)


def test_numeral_readout_matches_the_full_unembedding_with_softcap():
    from transformers import Gemma2Config, Gemma2ForCausalLM

    from superpose.explainer.simulators.all_at_once import NumeralReadout, numeral_readout

    torch.manual_seed(0)
    config = Gemma2Config(vocab_size=256, hidden_size=32, intermediate_size=64,
                          num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                          head_dim=8, final_logit_softcapping=0.5)
    model = Gemma2ForCausalLM(config).eval()
    readout = numeral_readout(model, numeral_token_ids(CharTokenizer()))
    assert isinstance(readout, NumeralReadout) and readout.softcap == 0.5
    sim = AllAtOnceSimulator(model, CharTokenizer(), "tiny-gemma2")
    (values,) = sim.simulate("cats", [[" sat", " on", " a", " mat"]])
    assert sim._readout is not False
    want = _full_forward_values(sim, model, "cats", [" sat", " on", " a", " mat"])
    assert values == pytest.approx(want, abs=1e-4)


def test_unknown_logit_scaling_falls_back_to_the_full_forward():
    from superpose.explainer.simulators.all_at_once import numeral_readout

    model = _tiny_llama()
    plain_forward = model.forward

    @functools.wraps(plain_forward)
    def scaled_forward(*args, **kwargs):  # an output layer the readout does not know about
        out = plain_forward(*args, **kwargs)
        out.logits = out.logits * 3.0
        return out

    model.forward = scaled_forward
    assert numeral_readout(model, numeral_token_ids(CharTokenizer())) is None
    sim = AllAtOnceSimulator(model, CharTokenizer(), "scaled")
    seq = ["The", " cat"]
    (values,) = sim.simulate("cats", [seq])
    assert sim._readout is False
    assert values == pytest.approx(_full_forward_values(sim, model, "cats", seq), abs=1e-4)
