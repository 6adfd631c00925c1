"""Chat clients for the explainer and the fallback simulator, with an on-disk response cache.

* :class:`LocalChatClient` runs a transformers chat model on this machine (greedy decoding).
* :class:`OpenAICompatibleClient` talks to any OpenAI-compatible server (vLLM, llama.cpp
  server, hosted APIs) through the official ``openai`` package, with bounded concurrency,
  retries with exponential backoff on transient errors and a per-request timeout. The API key
  is read from ``OPENAI_API_KEY`` only and is never written to the cache, logs or errors.
* :class:`DiskCache` stores each (model, request) -> reply once, so reruns cost nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_json_atomic

Message = dict[str, str]


class LLMError(SuperposeError):
    """A request failed for good (after retries, or a reply that cannot be used)."""


class DiskCache:
    """Replies keyed by a SHA-256 of (model, request); one small JSON file per request."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(model: str, request: dict[str, Any]) -> str:
        blob = json.dumps({"model": model, "request": request}, sort_keys=True,
                          ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, model: str, request: dict[str, Any]) -> str | None:
        path = self._path(self.key(model, request))
        try:
            reply = json.loads(path.read_text(encoding="utf-8"))["response"]
        except (OSError, ValueError, KeyError):
            self.misses += 1
            return None
        self.hits += 1
        return str(reply)

    def put(self, model: str, request: dict[str, Any], response: str) -> None:
        write_json_atomic(self._path(self.key(model, request)),
                          {"model": model, "request": request, "response": response})


class ChatClient:
    """Common cache handling; subclasses implement :meth:`_complete`."""

    name: str = "chat"
    concurrency: int = 1

    def __init__(self, cache: DiskCache | None = None) -> None:
        self.cache = cache

    def _complete(self, request: dict[str, Any]) -> str:
        raise NotImplementedError

    def complete(self, messages: Sequence[Message], max_tokens: int = 64,
                 temperature: float = 0.0) -> str:
        """The reply text to ``messages``; served from the cache when asked before."""
        request = {"messages": [dict(m) for m in messages], "max_tokens": int(max_tokens),
                   "temperature": float(temperature)}
        if self.cache is not None:
            cached = self.cache.get(self.name, request)
            if cached is not None:
                return cached
        reply = self._complete(request)
        if self.cache is not None:
            self.cache.put(self.name, request, reply)
        return reply

    def complete_many(self, conversations: Sequence[Sequence[Message]], max_tokens: int = 64,
                      temperature: float = 0.0) -> list[str | Exception]:
        """Replies in order; a failed request gives its exception in place, so others survive."""
        def one(messages: Sequence[Message]) -> str | Exception:
            try:
                return self.complete(messages, max_tokens, temperature)
            except Exception as err:  # noqa: BLE001 - reported per item by the caller
                return err

        if self.concurrency <= 1 or len(conversations) <= 1:
            return [one(m) for m in conversations]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, conversations))


class LocalChatClient(ChatClient):
    """A transformers chat model on its own device, greedy decoding (deterministic, so cacheable)."""

    def __init__(self, model: Any, tokenizer: Any, name: str,
                 cache: DiskCache | None = None) -> None:
        super().__init__(cache)
        self.model, self.tokenizer, self.name = model, tokenizer, f"local:{name}"

    def _complete(self, request: dict[str, Any]) -> str:
        import torch

        from superpose.models.device import module_device

        text = self.tokenizer.apply_chat_template(request["messages"], tokenize=False,
                                                  add_generation_prompt=True)
        enc = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        enc = enc.to(module_device(self.model))
        kwargs: dict[str, Any] = {"max_new_tokens": request["max_tokens"], "do_sample": False}
        if request["temperature"] > 0:
            kwargs.update(do_sample=True, temperature=request["temperature"])
        pad = self.tokenizer.pad_token_id
        kwargs["pad_token_id"] = pad if pad is not None else self.tokenizer.eos_token_id
        with torch.inference_mode():
            out = self.model.generate(**enc, **kwargs)
        return self.tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def _is_transient(err: Exception) -> bool:
    import openai

    if isinstance(err, openai.APIConnectionError | openai.RateLimitError):
        return True  # includes APITimeoutError
    if isinstance(err, openai.APIStatusError):
        return err.status_code in (408, 409, 429) or err.status_code >= 500
    return False


class OpenAICompatibleClient(ChatClient):
    """Chat completions from any OpenAI-compatible server.

    Retries only transient failures (connection, timeout, 408/409/429, 5xx) with exponential
    backoff and jitter; authentication and request errors fail at once with their message.
    """

    def __init__(self, model: str, base_url: str | None = None, *, timeout: float = 60.0,
                 max_retries: int = 4, backoff: float = 1.0, concurrency: int = 4,
                 cache: DiskCache | None = None) -> None:
        super().__init__(cache)
        import openai

        key = os.environ.get("OPENAI_API_KEY")
        if not key:
            raise SuperposeError("OPENAI_API_KEY is not set; export it (any placeholder such as "
                                 "'none' for a local server without authentication)")
        self.name, self.base_url = model, base_url
        self.max_retries, self.backoff, self.concurrency = max_retries, backoff, max(1, concurrency)
        # The library's own retries are off so that ours are the only ones (and are counted).
        self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=timeout,
                                     max_retries=0)

    def _complete(self, request: dict[str, Any]) -> str:
        where = self.base_url or "the default OpenAI endpoint"
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.chat.completions.create(
                    model=self.name, messages=request["messages"],
                    max_tokens=request["max_tokens"], temperature=request["temperature"])
            except Exception as err:  # noqa: BLE001 - classified below
                if _is_transient(err) and attempt < self.max_retries:
                    time.sleep(self.backoff * 2 ** attempt * (1 + 0.25 * random.random()))
                    continue
                kind = type(err).__name__
                raise LLMError(f"request to {where} failed after {attempt + 1} attempt(s): "
                               f"{kind}: {_short(err)}") from None
            return _reply_text(response, where)
        raise AssertionError("unreachable")


def _short(err: Exception) -> str:
    text = " ".join(str(err).split())
    return text[:200]


def _reply_text(response: Any, where: str) -> str:
    """The message text of a chat completion, or an LLMError for a malformed reply."""
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        content = None
    if not isinstance(content, str):
        raise LLMError(f"malformed reply from {where}: no choices[0].message.content text")
    return content
