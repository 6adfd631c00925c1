"""EleutherAI delphi's run folders: ``explanations/{module}_latent{index}.txt`` (each file a JSON
string) and ``scores/{scorer}/{module}_latent{index}.txt`` (``/`` in the module written ``--``).

Score files hold JSON lists (delphi's ``__main__``/``log/result_analysis``): classifier scorers
(detection, fuzz) one object per judged example with ``activating``, ``prediction``,
``probability``, ``correct``, ``distance``; the simulation scorer one object per quantile group with
``distance`` (-1: all sequences) and ``ev_correlation_score``. We keep per scorer what delphi reports
for it: accuracy, balanced accuracy, precision, recall, F1 and AUC; the correlation of each group.
The layer is read from the module name (``layers.5.mlp``, ``model.layers.5``, ``h.5``).
Writing goes the other way: our texts as explanation files delphi reads with ``--explainer none``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_dir
from superpose.explanations.base import (
    ExplanationFormat,
    Imported,
    ImportOptions,
    fail,
    files_under,
    layer_of,
    need,
    parse_json,
    read_text,
    score_value,
)

NAME = re.compile(r"^(?P<module>.+)_latent(?P<index>\d+)\.txt$")
LAYER = r"(?:^|\.)(?:layers|layer|h|blocks)\.(\d+)(?:\.|$)"
HEADLINES = ("detection/balanced_accuracy", "fuzz/balanced_accuracy", "simulation/ev_correlation_score")


def _auc(labels: list[bool], scores: list[float]) -> float | None:
    """Area under the ROC curve (ties count half); ``None`` without both classes."""
    pos = [s for y, s in zip(labels, scores, strict=True) if y]
    neg = [s for y, s in zip(labels, scores, strict=True) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def classifier_metrics(examples: list[dict], where: str) -> dict[str, Any]:
    """delphi's per-latent metrics of one classifier scorer (threshold 0.5 on ``prediction``)."""
    judged = []
    for i, ex in enumerate(examples):
        at = f"{where} (example {i})"
        activating = need(ex, "activating", bool, at)
        prediction = need(ex, "prediction", (bool, float), at, optional=True)
        probability = need(ex, "probability", float, at, optional=True)
        if prediction is not None:
            judged.append((activating, float(prediction) >= 0.5, probability))
    pos = sum(a for a, _, _ in judged)
    neg = len(judged) - pos
    tp = sum(a and p for a, p, _ in judged)
    tn = sum(not a and not p for a, p, _ in judged)
    fp = sum(not a and p for a, p, _ in judged)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / pos if pos else None
    f1 = (2 * precision * recall / (precision + recall) if precision and recall else
          (0.0 if precision is not None and recall is not None else None))
    balanced = (recall + tn / neg) / 2 if pos and neg and recall is not None else None
    with_prob = [(a, p) for a, _, p in judged if p is not None]
    auc = _auc([a for a, _ in with_prob], [p for _, p in with_prob]) if with_prob else None
    values = {"accuracy": (tp + tn) / len(judged) if judged else None, "balanced_accuracy": balanced,
              "precision": precision, "recall": recall, "f1": f1, "auc": auc}
    out: dict[str, Any] = {k: score_value(v) for k, v in values.items()}
    out.update(examples=len(examples), judged=len(judged), activating=pos)
    return out


def _score_file(path: Path) -> dict[str, Any] | None:
    """The metrics of one score file, or ``None`` for a scorer whose output we do not read."""
    where = f"{path}:1"
    data = parse_json(read_text(path), where)
    if not isinstance(data, list):
        raise fail(where, f"expected a JSON list of scored examples, found {type(data).__name__}")
    if data and all(isinstance(d, dict) and "activating" in d and "prediction" in d for d in data):
        return classifier_metrics(data, where)
    if data and all(isinstance(d, dict) and "ev_correlation_score" in d for d in data):
        out = {}
        for i, group in enumerate(data):
            at = f"{where} (group {i})"
            distance = need(group, "distance", int, at, optional=True)
            name = "ev_correlation_score" if distance in (None, -1) else f"ev_correlation_score_q{distance}"
            out[name] = score_value(need(group, "ev_correlation_score", (float, str), at, optional=True))
        return out
    return None


def _root(source: Path) -> tuple[Path, Path | None]:
    """The explanations folder (or file) and the run's scores folder, if any."""
    if source.is_dir() and (source / "explanations").is_dir():
        return source / "explanations", source / "scores" if (source / "scores").is_dir() else None
    parent = source if source.is_dir() else source.parent
    scores = parent.parent / "scores"
    return source, scores if scores.is_dir() else None


def read(source: Path, options: ImportOptions) -> list[Imported]:
    explanations, scores_dir = _root(source)
    scorers = sorted(p for p in scores_dir.iterdir() if p.is_dir()) if scores_dir else []
    items = []
    for path in files_under(explanations, (".txt",), "delphi explanation files ({module}_latent{index}.txt)"):
        match = NAME.match(path.name)
        if not match:
            raise fail(str(path), "is not named {module}_latent{index}.txt", "pass delphi's explanations folder")
        module, index = match.group("module"), int(match.group("index"))
        where = f"{path}:1"
        text = parse_json(read_text(path), where)
        if not isinstance(text, str):
            raise fail(where, f"should hold a JSON string (the explanation), not {type(text).__name__}")
        layer = layer_of(module, str(path), LAYER, "module name")
        if options.sae is not None and options.sae.layer != layer:
            raise fail(str(path), f"module {module} is of layer {layer}, the SAE {options.sae.name} of layer "
                       f"{options.sae.layer}", "pass the SAE these latents are of")
        scores: dict[str, Any] = {}
        skipped = []
        for scorer in scorers:
            file = scorer / path.name
            if not file.is_file():
                continue
            found = _score_file(file)
            if found is None:
                skipped.append(scorer.name)
                continue
            scores.update({f"{scorer.name}/{k}": v for k, v in found.items()})
        headline = next((h for h in HEADLINES if isinstance(scores.get(h), float)), None)
        extra: dict[str, Any] = {"module": module, "unit": {"kind": "latent", "module": module, "index": index}}
        if skipped:
            extra["scores_not_read"] = skipped
        items.append(Imported(layer, index, text.strip(), where, options.explainer_model, scores, headline, extra))
    return items


def write(texts: list[tuple[int, int, str]], out: Path, settings: dict[str, Any]) -> list[Path]:
    """``out/explanations/{module}_latent{index}.txt``, each a JSON string; ``settings["module"]`` is
    a template with ``{layer}`` (delphi's hookpoint, e.g. ``layers.{layer}.mlp``)."""
    template = settings["module"]
    if "{layer}" not in template:
        raise SuperposeError(f"--module {template!r} must contain {{layer}}, e.g. layers.{{layer}}.mlp")
    target = out / "explanations"
    if target.exists() and any(target.iterdir()) and not settings.get("overwrite"):
        raise SuperposeError(f"{target} exists and is not empty: choose another --out or pass --overwrite")
    written = []
    with atomic_dir(target) as tmp:
        for layer, neuron, text in texts:
            name = f"{template.format(layer=layer).replace('/', '--')}_latent{neuron}.txt"
            (tmp / name).write_text(json.dumps(text), encoding="utf-8")
            written.append(target / name)
    return written


FORMAT = ExplanationFormat("delphi", "EleutherAI delphi run folders: explanations/, scores/{scorer}/", read,
                           write=write)
