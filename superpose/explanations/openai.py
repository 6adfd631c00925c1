"""OpenAI's public neuron-explainer data (GPT-2 XL under ``data/``, GPT-2 small under
``gpt2_small_data/``): explanations, activation records and weight-based related tokens.

Layout: ``{prefix}/explanations/{layer}/{neuron}.jsonl`` (a ``NeuronSimulationResults`` per line),
``{prefix}/collated-activations/{layer}/{neuron}.json`` (a ``NeuronRecord``) and
``{prefix}/related-tokens/weight-based/{layer}/{neuron}.json`` (a ``WeightBasedSummaryOfNeuron``).
Objects carry ``dataclass_name``; files written without it are read by their fields, as OpenAI's
own loader does. Field names follow ``neuron_explainer`` (explanations/explanations.py,
activations/activations.py, activations/token_connections.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.explanations.base import (
    ExplanationFormat,
    Imported,
    ImportOptions,
    fail,
    files_under,
    json_lines,
    need,
    parse_json,
    read_text,
    score_value,
)

SCORES = ("ev_correlation_score", "rsquared_score", "absolute_dev_explained_score")
# The released models: layers and MLP width (OpenAI's README and paper).
WIDTHS = {"gpt2": (12, 3072), "gpt2-xl": (48, 6400)}
KINDS = {"explanations": "NeuronSimulationResults", "collated-activations": "NeuronRecord",
         "weight-based": "WeightBasedSummaryOfNeuron"}
TOKEN_SIDES = ("input_positive", "input_negative", "output_positive", "output_negative")


@dataclass(frozen=True)
class Located:
    """One file of the release: its kind, and the unit its path names (``None`` outside the layout)."""

    path: Path
    kind: str
    layer: int | None
    neuron: int | None


def layout_model(path: Path) -> str | None:
    """``gpt2`` under ``gpt2_small_data/``, ``gpt2-xl`` under ``neuron-explainer/data/``."""
    parts = path.parts
    if "gpt2_small_data" in parts:
        return "gpt2"
    if "data" in parts and "neuron-explainer" in parts:
        return "gpt2-xl"
    return None


def locate(source: Path) -> list[Located]:
    """Every file of the release under ``source`` (or ``source`` itself) with its kind."""
    found = []
    for path in files_under(source, (".json", ".jsonl"), "OpenAI neuron-explainer files"):
        parts = path.parts
        kind = next((k for k in ("collated-activations", "weight-based", "explanations") if k in parts), None)
        if "activation-based" in parts:
            continue  # token look-up tables: not explanations, not records
        layer = neuron = None
        if re.fullmatch(r"\d+", path.parent.name) and re.fullmatch(r"\d+", path.name.split(".")[0]):
            layer, neuron = int(path.parent.name), int(path.name.split(".")[0])
        if kind is None:  # a lone file outside the layout: its dataclass_name says what it is
            first = next((line for line in read_text(path).splitlines() if line.strip()), "")
            name = parse_json(first, f"{path}:1").get("dataclass_name") if first.startswith("{") else None
            kind = next((k for k, v in KINDS.items() if v == name), None)
            if kind is None:
                raise fail(str(path), "is not in an explanations/, collated-activations/ or "
                           "related-tokens/weight-based/ folder and names no known dataclass_name",
                           "pass files in the release's layout")
        found.append(Located(path, kind, layer, neuron))
    return found


def _check_class(obj: Any, expected: str, where: str) -> None:
    name = obj.get("dataclass_name") if isinstance(obj, dict) else None
    if not isinstance(obj, dict):
        raise fail(where, f"expected a {expected} object, found {type(obj).__name__}")
    if name is not None and name != expected:
        raise fail(where, f"holds a {name}, not a {expected}", "pass the file of the right folder")


def _unit(obj: dict, loc: Located, where: str) -> tuple[int, int]:
    nid = need(obj, "neuron_id", dict, where)
    layer, neuron = need(nid, "layer_index", int, where), need(nid, "neuron_index", int, where)
    if loc.layer is not None and (layer, neuron) != (loc.layer, loc.neuron):
        raise fail(where, f"names neuron {layer}/{neuron} but lies at {loc.layer}/{loc.neuron}",
                   "the file was moved or renamed")
    return layer, neuron


def _read_explanations(loc: Located, options: ImportOptions) -> list[Imported]:
    items = []
    for where, obj in json_lines(loc.path):
        _check_class(obj, "NeuronSimulationResults", where)
        layer, neuron = _unit(obj, loc, where)
        for i, scored in enumerate(need(obj, "scored_explanations", list, where)):
            at = f"{where} (scored_explanations[{i}])"
            _check_class(scored, "ScoredExplanation", at)
            text = need(scored, "explanation", str, at).strip()
            simulation = need(scored, "scored_simulation", dict, at, optional=True) or {}
            scores = {key: score_value(need(simulation, key, float, at, optional=True)) for key in SCORES}
            sequences = need(simulation, "scored_sequence_simulations", list, at, optional=True) or []
            items.append(Imported(layer, neuron, text, where, options.explainer_model, scores,
                                  "ev_correlation_score",
                                  {"openai_model": layout_model(loc.path), "explanation_index": i,
                                   "scored_sequences": len(sequences)}))
    return items


def read(source: Path, options: ImportOptions) -> list[Imported]:
    located = locate(source)
    return [item for loc in located if loc.kind == "explanations" for item in _read_explanations(loc, options)]


def default_model(source: Path) -> str | None:
    """The model the release's layout names (``gpt2`` or ``gpt2-xl``), or ``None``."""
    models = {layout_model(loc.path) for loc in locate(source)} - {None}
    if len(models) > 1:
        raise SuperposeError(f"{source} mixes GPT-2 small and GPT-2 XL files ({', '.join(sorted(models))}): "
                             "import one model at a time")
    return models.pop() if models else None


# ---- activation records --------------------------------------------------------------------------

def _record_list(obj: dict, key: str, where: str) -> list[tuple[list[str], list[float]]]:
    out = []
    for i, rec in enumerate(need(obj, key, list, where, optional=True) or []):
        at = f"{where} ({key}[{i}])"
        _check_class(rec, "ActivationRecord", at)
        tokens, acts = need(rec, "tokens", list, at), need(rec, "activations", list, at)
        if len(tokens) != len(acts) or not tokens:
            raise fail(at, f"has {len(tokens)} tokens and {len(acts)} activations", "the record is damaged")
        if not all(isinstance(t, str) for t in tokens) or \
                not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in acts):
            raise fail(at, "tokens must be strings and activations numbers")
        out.append(([str(t) for t in tokens], [float(a) for a in acts]))
    return out


def openai_order(top: list, random: list) -> tuple[list, list]:
    """Records reordered so that our split (docs/formats/llm.md) gives OpenAI's sets.

    OpenAI interleaves top records into train/calibration/valid/test (index % 4) and random ones
    into calibration/valid/test (index % 3), and scored the published explanations on valid. Our
    split explains from top ranks % 4 in {0, 2}, calibrates on % 4 == 1 and holds out % 4 == 3,
    and alternates random records between calibration and held out. Swapping OpenAI's valid and
    test top records, and interleaving random calibration with random valid (test last), makes our
    held-out set OpenAI's valid set and our calibration set theirs; the explainer saw neither.
    """
    order = []
    for start in range(0, len(top), 4):
        group = list(range(start, min(start + 4, len(top))))
        if len(group) == 4:
            group = [group[0], group[1], group[3], group[2]]
        order += group
    calibration, valid, test = random[0::3], random[1::3], random[2::3]
    mixed = [r for pair in zip(calibration, valid, strict=False) for r in pair]
    mixed += calibration[len(valid):] + valid[len(calibration):] + test
    return [top[i] for i in order], mixed


def _shape(options: ImportOptions) -> tuple[int, int] | None:
    """(layers, MLP width) of the model: the released ones by name, others from a local config."""
    assert options.model is not None
    known = WIDTHS.get(options.model.split("--")[-1])
    if known or not options.model_source:
        return known
    try:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(options.model_source, local_files_only=True)
    except (OSError, ValueError):
        return None
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    hidden = getattr(config, "hidden_size", None) or getattr(config, "n_embd", None)
    width = getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None) or (
        4 * hidden if hidden else None)
    return (int(layers), int(width)) if layers and width else None


def write_records(source: Path, options: ImportOptions, folder: Path) -> Path | None:
    """OpenAI's ``NeuronRecord`` files as our records folder (``None`` when the source has none)."""
    located = [loc for loc in locate(source) if loc.kind == "collated-activations"]
    if not located:
        return None
    if not options.model:
        raise SuperposeError(f"{source}: cannot tell which model these records are of (not under "
                             "gpt2_small_data/ or neuron-explainer/data/): pass --model")
    units: dict[tuple[int, int], dict[str, Any]] = {}
    for loc in located:
        text = read_text(loc.path)
        where = f"{loc.path}:1"
        obj = parse_json(text, where)
        _check_class(obj, "NeuronRecord", where)
        key = _unit(obj, loc, where)
        top = _record_list(obj, "most_positive_activation_records", where)
        random = _record_list(obj, "random_sample", where)
        if not top:
            raise fail(where, "has no most_positive_activation_records")
        top, random = openai_order(top, random)
        stats = {name: need(obj, name, float, where, optional=True) for name in ("mean", "variance")}
        units[key] = {"top": top, "random": random, "stats": stats, "where": where}
    lengths = {len(t) for u in units.values() for t, _ in u["top"] + u["random"]}
    if len(lengths) != 1:
        raise SuperposeError(f"{source}: records of different lengths ({sorted(lengths)[:5]} tokens); our "
                             "records format needs one sequence length: import files of one release")
    from superpose.explanations.records import write_imported_records

    n_layers, width = _shape(options) or (max(k[0] for k in units) + 1, max(k[1] for k in units) + 1)
    if max(k[1] for k in units) >= width or max(k[0] for k in units) >= n_layers:
        raise SuperposeError(f"{source}: neuron indices beyond {options.model}'s {n_layers} layers x {width} "
                             "neurons: pass the --model these records are of")
    return write_imported_records(folder, units, n_layers=n_layers, width=width, seq_len=lengths.pop(),
                                  options=options, source=source,
                                  note="OpenAI neuron-explainer NeuronRecord files; random samples are per "
                                       "neuron; records reordered so that our split gives OpenAI's "
                                       "calibration and valid sets (docs/explanations.md)")


# ---- weight-based related tokens ---------------------------------------------------------------

def read_weight_tokens(source: Path) -> list[tuple[int, int, dict[str, tuple[list[str], list[float]]], str]]:
    """(layer, neuron, side -> (tokens, strengths), file) of every WeightBasedSummaryOfNeuron file."""
    found = []
    for loc in locate(source):
        if loc.kind != "weight-based":
            continue
        where = f"{loc.path}:1"
        obj = parse_json(read_text(loc.path), where)
        _check_class(obj, "WeightBasedSummaryOfNeuron", where)
        if loc.layer is None or loc.neuron is None:
            raise fail(str(loc.path), "a weight-based summary names no neuron: keep it at "
                       "related-tokens/weight-based/{layer}/{neuron}.json")
        sides = {}
        for side in TOKEN_SIDES:
            part = need(obj, side, dict, where)
            tokens, strengths = need(part, "tokens", list, f"{where} ({side})"), need(part, "strengths", list,
                                                                                     f"{where} ({side})")
            if len(tokens) != len(strengths) or not all(isinstance(t, str) for t in tokens):
                raise fail(f"{where} ({side})", "tokens must be strings, one strength each")
            sides[side] = ([str(t) for t in tokens], [float(s) for s in strengths])
        found.append((loc.layer, loc.neuron, sides, str(loc.path)))
    if not found:
        raise SuperposeError(f"{source} holds no related-tokens/weight-based/{{layer}}/{{neuron}}.json file")
    return sorted(found, key=lambda item: item[:2])


FORMAT = ExplanationFormat(
    "openai", "OpenAI neuron-explainer data (GPT-2 XL, GPT-2 small): explanations/, collated-activations/",
    read, records=write_records, default_model=default_model)
