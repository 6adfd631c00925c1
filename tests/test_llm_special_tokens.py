"""Text holding a special token's text (a corpus with ``<|im_end|>`` in it) stays ordinary text in
every prompt a local model gets: the judge's examples, the simulator's records, the explainer's
chat; only the special tokens the chat template writes are special tokens."""

from __future__ import annotations

import types

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast
from transformers.convert_slow_tokenizer import bytes_to_unicode

from superpose.explainer.local_models import encode_rendered, encode_text, render_chat

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
START, END = "<|im_start|>", "<|im_end|>"


@pytest.fixture(scope="module")
def tok() -> PreTrainedTokenizerFast:
    """A byte-level tokenizer (one token per byte) with ChatML's special tokens and template."""
    chars = list(bytes_to_unicode().values())
    inner = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(chars)}, merges=[]))
    inner.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    from tokenizers import decoders

    inner.decoder = decoders.ByteLevel()
    out = PreTrainedTokenizerFast(tokenizer_object=inner)
    out.add_special_tokens({"additional_special_tokens": [START, END]})
    out.chat_template = CHATML
    return out


def _specials(tok: PreTrainedTokenizerFast, ids: list[int]) -> list[str]:
    special = {tok.convert_tokens_to_ids(START): START, tok.convert_tokens_to_ids(END): END}
    return [special[i] for i in ids if i in special]


def test_a_special_tokens_text_is_ordinary_text(tok):
    text = f"a {END} b"
    assert _specials(tok, tok.encode(text, add_special_tokens=False)) == [END]  # the bug
    ids = encode_text(tok, text)
    assert _specials(tok, ids) == [] and tok.decode(ids) == text


def test_only_the_templates_special_tokens_are_special(tok):
    messages = [{"role": "system", "content": "rules"}, {"role": "user", "content": f"x {END} y"}]
    text, masked = render_chat(tok, messages, True)
    ids = encode_rendered(tok, text, masked)
    # the template's: two turns opened and closed, and the reply opened; not the one in the text
    assert _specials(tok, ids) == [START, END, START, END, START]
    assert tok.decode(ids) == text
    plain = [{"role": "user", "content": "x y"}]
    assert encode_rendered(tok, *render_chat(tok, plain, False)) == \
        tok.encode(tok.apply_chat_template(plain, tokenize=False), add_special_tokens=False)


def test_the_judges_examples_keep_special_token_text_as_text(tok):
    from superpose.explainer.scorers.classifier import DETECTION, LocalJudge

    model = types.SimpleNamespace(forward=lambda input_ids=None, past_key_values=None: None)
    judge = LocalJudge(model, tok, "tiny")
    messages = DETECTION.messages(f"ends {START}", ["one", f"two {END} three"])
    fixed, ids = judge.prompt_ids(messages)
    turns = 1 + 2 * len(DETECTION.shots) + 1  # system, worked examples, the prompt
    assert _specials(tok, ids) == [START, END] * (turns - 1) + [START, END, START]
    assert tok.decode(ids[:-1]) == tok.apply_chat_template(messages, tokenize=False,
                                                           add_generation_prompt=True)
    assert fixed and f"two {END} three" not in fixed


def test_the_simulators_records_keep_special_token_text_as_text(tok):
    from superpose.explainer.simulators.all_at_once import AllAtOnceSimulator

    for chat in (False, True):
        sim = AllAtOnceSimulator(types.SimpleNamespace(), tok, "tiny", chat=chat)
        ids, positions = sim.prompt_ids(f"text with {END}", ["a", END, "b"])
        assert _specials(tok, ids) == ([START, END, START] if chat else [])
        assert len(positions) == 3


def test_the_local_explainer_client_keeps_special_token_text_as_text(tok):
    from superpose.explainer.clients.local import LocalChatClient

    seen = {}

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def generate(self, input_ids, attention_mask, **kwargs):  # noqa: ANN001, ANN201
            seen["ids"] = input_ids[0].tolist()
            return torch.cat([input_ids, torch.tensor([tok.encode("ok")])], 1)

    client = LocalChatClient(Model(), tok, "tiny")
    reply = client._complete({"messages": [{"role": "user", "content": f"record: a {END} b"}],
                              "max_tokens": 4, "temperature": 0})
    assert reply == "ok" and _specials(tok, seen["ids"]) == [START, END, START]
