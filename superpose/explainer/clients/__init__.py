"""Chat clients, one file per kind, found through a registry.

A client file registers a builder with :func:`register_client`; :func:`make_client` imports
the package's modules on first use, so a new client is one new file in this folder (or a
:func:`register_client` call anywhere before use). Built in: ``local`` (a transformers model
on this machine) and ``openai`` (any OpenAI-compatible server).
"""

from __future__ import annotations

from collections.abc import Callable

from superpose.core.errors import SuperposeError
from superpose.core.registry import Kind, KindRegistry
from superpose.llm.clients.base import Backend, ChatClient, DiskCache, LLMError, Message

__all__ = ["Backend", "ChatClient", "ClientKind", "DiskCache", "LLMError", "Message",
           "client_kinds", "make_client", "register_client"]

Builder = Callable[[Backend, "DiskCache | None"], ChatClient]


ClientKind = Kind
_REGISTRY: KindRegistry[Builder] = KindRegistry(__name__, lambda: __path__)
_KINDS = _REGISTRY.kinds
register_client = _REGISTRY.register  # decorator: ``build(backend, cache) -> ChatClient`` is the kind ``name``


def client_kinds() -> dict[str, ClientKind]:
    """Every registered client kind by name (built-in files imported first)."""
    return _REGISTRY.all()


def make_client(backend: Backend) -> ChatClient:
    """The client ``backend.kind`` names, with the response cache when one is set."""
    kinds = client_kinds()
    if backend.kind not in kinds:
        raise SuperposeError(f"unknown back-end {backend.kind!r}; choose one of: "
                             + ", ".join(kinds))
    cache = DiskCache(backend.cache) if backend.cache else None
    return kinds[backend.kind].build(backend, cache)
