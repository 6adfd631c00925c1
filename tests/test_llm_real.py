"""Real-model checks (slow): the embedded SmolLM2 as simulator and explainer, MiniLM scorer."""

import numpy as np
import pytest

from superpose.activations.formats import ActivationRecord

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smollm2():
    from superpose.explainer.local_models import load_local_model

    return load_local_model("smollm2-135m")


def _records(tokenizer, texts, words):
    out = []
    for i, text in enumerate(texts):
        tokens = [tokenizer.decode([t]) for t in tokenizer.encode(text, add_special_tokens=False)]
        acts = np.array([1.0 if t.strip() in words else 0.0 for t in tokens])
        out.append(ActivationRecord(tokens, acts, i, "top"))
    return out


def test_smollm2_simulator_gives_expected_values_on_the_digit_scale(smollm2):
    from superpose.explainer.simulators.all_at_once import AllAtOnceSimulator

    sim = AllAtOnceSimulator(smollm2.model, smollm2.tokenizer, smollm2.name)
    assert sim.top == 9  # SmolLM2 splits "10" into digits
    tokens = ["On", " Monday", " we", " rest", "."]
    (values,) = sim.simulate("days of the week", [tokens])
    assert values.shape == (5,) and np.all((values >= 0) & (values <= 10))
    again = AllAtOnceSimulator(smollm2.model, smollm2.tokenizer, smollm2.name,
                               reuse_prefix=False).simulate("days of the week", [tokens])[0]
    assert values == pytest.approx(again, abs=1e-3)


def test_smollm2_explainer_returns_one_line(smollm2, tmp_path):
    from superpose.explainer.clients import DiskCache
    from superpose.explainer.clients.local import LocalChatClient
    from superpose.explainer.explain import explain_records

    records = _records(smollm2.tokenizer, ["Every Monday the office opens late.",
                                           "We met on Tuesday and again on Friday."],
                       {"Monday", "Tuesday", "Friday"})
    client = LocalChatClient(smollm2.model, smollm2.tokenizer, smollm2.name,
                             DiskCache(tmp_path))
    text = explain_records(records, client)
    assert text and "\n" not in text
    assert explain_records(records, client) == text and client.cache.hits == 1


def test_minilm_embedding_separates_related_contexts():
    from superpose.explainer.encoder import SentenceEncoder
    from superpose.explainer.scoring import embedding_auc

    enc = SentenceEncoder()
    pos = [ActivationRecord(["We", " met", " on", " Monday"], np.array([0, 0, 0, 1.0]))]
    neg = [ActivationRecord(["The", " river", " is", " wide"], np.array([0, 0, 1.0, 0]))]
    assert embedding_auc("days of the week", pos, neg, enc).value == 1.0
