"""Neuronpedia's exports: ``v1/{MODEL}/{SOURCE}/explanations/batch-N.jsonl.gz``.

Each line is a row of Neuronpedia's ``Explanation`` table (its webapp's prisma schema and its
``export-data.py``): ``id``, ``modelId``, ``layer`` (the source id, e.g. ``20-gemmascope-res-16k``;
the leading number is the layer), ``index`` (a string), ``description``, ``authorId``,
``typeName`` (how it was made, e.g. ``oai_token-act-pair``), ``explanationModelName``,
``embedding``, ``umap_*``; older exports add ``scoreV1``/``scoreV2``, and rows joined with the
``ExplanationScore`` table carry ``scores`` (``value``, ``explanationScoreTypeName``,
``explanationScoreModelName``). Every score present is kept. Writing goes the other way: our texts
as rows of the same table, in the same layout, for Neuronpedia's importer.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_gzip_text
from superpose.core.provenance import timestamp
from superpose.explanations.base import (
    ExplanationFormat,
    Imported,
    ImportOptions,
    fail,
    files_under,
    json_lines,
    layer_of,
    need,
    score_value,
)

BATCH = 1024  # rows per batch file, as Neuronpedia's own export writes them
KEPT = ("id", "modelId", "typeName", "authorId", "createdAt")


def _scores(row: dict, where: str) -> tuple[dict[str, Any], str | None]:
    scores: dict[str, Any] = {}
    for i, item in enumerate(need(row, "scores", list, where, optional=True) or []):
        at = f"{where} (scores[{i}])"
        kind = need(item, "explanationScoreTypeName", str, at)
        model = need(item, "explanationScoreModelName", str, at, optional=True)
        scores[f"{kind}/{model}" if model else kind] = score_value(need(item, "value", float, at))
    headline = next(iter(scores), None)
    for key in ("scoreV2", "scoreV1"):
        value = need(row, key, float, where, optional=True)
        if value is not None:
            scores[key] = score_value(value)
    if headline is None:  # scoreV1 defaults to 0 in Neuronpedia's table: only a non-zero one says anything
        headline = "scoreV2" if "scoreV2" in scores else ("scoreV1" if scores.get("scoreV1") not in (None, 0.0)
                                                          else None)
    return scores, headline


def read(source: Path, options: ImportOptions) -> list[Imported]:
    items, sources = [], {}
    for path in files_under(source, (".jsonl.gz", ".jsonl"), "Neuronpedia explanation batches"):
        for where, row in json_lines(path):
            source_id = need(row, "layer", str, where)
            index = need(row, "index", (str, int), where)
            if isinstance(index, str) and not index.strip().isdigit():
                raise fail(where, f"index {index!r} is not a whole number")
            layer, unit = layer_of(source_id, where, r"^(\d+)-", "source id"), int(index)
            text = need(row, "description", str, where).strip()
            need(row, "modelId", str, where)
            seen = sources.setdefault(layer, source_id)
            if seen != source_id:
                raise fail(where, f"source {source_id} shares layer {layer} with {seen}",
                           "import one source of a layer at a time (pass its explanations folder)")
            if options.sae is not None:
                if options.sae.layer != layer:
                    raise fail(where, f"source {source_id} is of layer {layer}, the SAE {options.sae.name} of "
                               f"layer {options.sae.layer}", "pass the SAE of this source")
                if unit >= options.sae.d_sae:
                    raise fail(where, f"index {unit} is beyond the SAE's {options.sae.d_sae} latents")
            scores, headline = _scores(row, where)
            explainer = need(row, "explanationModelName", str, where, optional=True)
            extra = {k: row[k] for k in KEPT if isinstance(row.get(k), str)}
            extra["source"] = source_id
            extra["unit"] = ({"kind": "sae", "name": options.sae.name, "hook": options.sae.hook.name,
                              "index": unit} if options.sae is not None
                             else {"kind": "neuronpedia-source", "source": source_id, "index": unit})
            items.append(Imported(layer, unit, text, where, explainer or options.explainer_model, scores,
                                  headline, extra))
    return items


def write(texts: list[tuple[int, int, str]], out: Path, settings: dict[str, Any]) -> list[Path]:
    """``v1/{modelId}/{source}/explanations/batch-N.jsonl.gz`` under ``out``, one source per layer.

    ``settings``: ``model_id`` (Neuronpedia's model id), ``source`` (a template with ``{layer}``,
    e.g. ``{layer}-res-jb``), ``type_name`` and ``author_id`` (which must exist on the receiving
    instance), ``explainer`` (recorded as ``explanationModelName``).
    """
    template = settings["source"]
    if "{layer}" not in template:
        raise SuperposeError(f"--source {template!r} must contain {{layer}}, e.g. {{layer}}-res-jb")
    model_id = settings.get("model_id") or settings["model"]
    created = timestamp()
    by_source: dict[str, list[dict[str, Any]]] = {}
    for layer, neuron, text in texts:
        source = template.format(layer=layer)
        key = f"{model_id}/{source}/{neuron}/{text}"
        by_source.setdefault(source, []).append({
            "id": "sp" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:23],
            "modelId": model_id, "layer": source, "index": str(neuron), "description": text,
            "authorId": settings.get("author_id") or "", "typeName": settings.get("type_name"),
            "explanationModelName": settings.get("explainer"), "createdAt": created})
    written = []
    for source, rows in sorted(by_source.items()):
        folder = out / "v1" / model_id / source / "explanations"
        for number, start in enumerate(range(0, len(rows), BATCH)):
            path = folder / f"batch-{number}.jsonl.gz"
            with atomic_gzip_text(path) as fh:
                fh.write("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows[start:start + BATCH]))
            written.append(path)
    return written


FORMAT = ExplanationFormat("neuronpedia", "Neuronpedia exports: v1/{MODEL}/{SOURCE}/explanations/batch-N.jsonl.gz",
                           read, write=write)
