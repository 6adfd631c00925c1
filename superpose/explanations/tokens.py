"""A published check of our projection: OpenAI's weight-based output tokens against our top tokens.

OpenAI ranks, for neuron ``(l, n)`` of GPT-2, every token ``t`` by ``c_proj.w[n] @ diag(ln_f.g) @
wte[t]`` (their README, "Definition of connection weights"): the neuron's output direction read
straight through the unembedding, as our Hi-I projection reads it (ours also applies the final
norm's centring and bias, and adds the MLP's output bias; Hi-C first runs the later blocks). For
each neuron, mode and polarity (``output_positive`` against our top tokens, ``output_negative``
against our bottom ones) we report the overlap of the two top-K lists, its chance level K/V, and
where each published token ranks among all V tokens by our logits (0 = our first).
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from superpose.config import CompareParams
from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_json_atomic, write_text_atomic
from superpose.core.provenance import timestamp, versions
from superpose.core.tables import csv_text
from superpose.explanations.openai import read_weight_tokens

COLUMNS = ["layer", "neuron", "mode", "polarity", "k", "mapped", "overlap", "chance_overlap",
           "median_rank_pct", "published", "ours"]
SIDES = {"pos": "output_positive", "neg": "output_negative"}


def token_lookup(tokenizer: Any, vocab_size: int) -> dict[str, int]:
    """Token text -> id: each id's decoded text and its raw vocabulary form (``Ġthe``), first id wins."""
    lookup: dict[str, int] = {}
    raw = tokenizer.convert_ids_to_tokens(list(range(vocab_size)))
    for i in range(vocab_size):
        lookup.setdefault(tokenizer.decode([i]), i)
    for i, form in enumerate(raw):
        if isinstance(form, str):
            lookup.setdefault(form, i)
    return lookup


def compare_tokens(published: list[str], logits: np.ndarray, lookup: dict[str, int], top: int,
                   decode: Any) -> dict[str, Any]:
    """Overlap and rank agreement of one published token list with one unit's logits (best first)."""
    k = min(top, len(published))
    if k == 0:
        raise SuperposeError("a published token list is empty: nothing to compare")
    ids = [lookup.get(t) for t in published[:k]]
    mapped = [i for i in ids if i is not None]
    ours = np.argsort(-logits, kind="stable")[:k]
    order = np.empty(len(logits), np.int64)
    order[np.argsort(-logits, kind="stable")] = np.arange(len(logits))
    ranks = [order[i] / max(1, len(logits) - 1) for i in mapped]
    return {"k": k, "mapped": len(mapped), "overlap": len(set(mapped) & set(ours.tolist())) / k,
            "chance_overlap": k / len(logits), "median_rank_pct": float(np.median(ranks)) if ranks else math.nan,
            "published": " ".join(repr(t) for t in published[:k]),
            "ours": " ".join(repr(decode([int(i)])) for i in ours)}


def check_tokens(source: str | Path, model: Any, out: str | Path, *, modes: tuple[str, ...] = ("hi-i", "hi-c"),
                 top: int = 10, bootstrap: int = CompareParams.bootstrap, seed: int = 0) -> dict[str, Any]:
    """Compare every weight-based file under ``source`` with our projection of the same neuron.

    Writes ``out/tokens.csv`` (one row per neuron, mode and polarity) and ``out/tokens.json`` (means
    with 95% bootstrap intervals per mode and polarity, parameters, versions); returns the latter.
    """
    from superpose.compare.stats import bootstrap_mean
    from superpose.models import as_loaded
    from superpose.projection.project import check_mode, neuron_logits

    if top < 1:
        raise SuperposeError(f"--top must be at least 1, not {top}")
    for mode in modes:
        if mode not in ("hi-i", "hi-c"):
            raise SuperposeError(f"--modes takes hi-i and hi-c (neuron projections), not {mode!r}")
        check_mode(mode)
    found = read_weight_tokens(Path(source))
    lm = as_loaded(model)
    for layer, neuron, _, path in found:
        if not (0 <= layer < lm.n_layers and 0 <= neuron < lm.n_neurons):
            raise SuperposeError(f"{path}: neuron {layer}/{neuron} is not in {lm.name} ({lm.n_layers} layers x "
                                 f"{lm.n_neurons} neurons): pass the model the tokens were published for")
    lookup = token_lookup(lm.tokenizer, lm.vocab_size)
    by_layer: dict[int, list] = defaultdict(list)
    for item in found:
        by_layer[item[0]].append(item)
    rows = []
    for mode in modes:
        for layer, items in sorted(by_layer.items()):
            logits = neuron_logits(lm, mode, layer, [neuron for _, neuron, _, _ in items])
            for row_logits, (_, neuron, sides, _) in zip(logits, items, strict=True):
                for polarity, side in SIDES.items():
                    signed = row_logits if polarity == "pos" else -row_logits
                    rows.append({"layer": layer, "neuron": neuron, "mode": mode, "polarity": polarity,
                                 **compare_tokens(sides[side][0], signed, lookup, top, lm.tokenizer.decode)})
    summary: dict[str, Any] = {}
    for mode in modes:
        for polarity in SIDES:
            part = [r for r in rows if r["mode"] == mode and r["polarity"] == polarity]
            entry = {}
            for name in ("overlap", "chance_overlap", "median_rank_pct"):
                mean, lo, hi = bootstrap_mean([float(r[name]) for r in part], bootstrap, seed)
                entry[name] = {"mean": mean, "lo": lo, "hi": hi}
            entry["mapped_share"] = sum(r["mapped"] for r in part) / max(1, sum(r["k"] for r in part))
            summary[f"{mode}/{polarity}"] = entry
    out = Path(out)
    write_text_atomic(out / "tokens.csv", csv_text(COLUMNS, rows, spec=".6g"))
    result = {"format": "superpose.explanations.check-tokens", "format_version": 1, "source": str(source),
              "model": lm.name, "model_source": lm.source, "modes": list(modes), "top": top, "neurons": len(found),
              "bootstrap": bootstrap, "seed": seed, "summary": summary, "created": timestamp(),
              "versions": versions()}
    write_json_atomic(out / "tokens.json", result)
    return result
