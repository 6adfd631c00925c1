"""The three LLM-path jobs behind the CLI: activation records, explanations, scores.

Each job is resumable: records skip layers already written; explanations and scores append one
JSON line per neuron as it finishes and skip neurons finished before. A neuron that fails gets
a row with ``status: "error"`` (retried on the next run), a neuron that never activates gets
``status: "dead"``; neither stops the other neurons.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from superpose.activations.formats import (
    SPLIT,
    JsonlWriter,
    NeuronRecords,
    RecordSplit,
    RecordStore,
    layer_path,
    read_jsonl,
    save_layer,
    write_meta,
)
from superpose.config import RecordParams
from superpose.core.errors import SuperposeError
from superpose.core.provenance import timestamp, versions
from superpose.core.ranges import parse_range
from superpose.explainer.clients import Backend, LLMError, make_client
from superpose.explainer.prompts import DeadNeuronError, ExplanationParseError
from superpose.models.device import Placement, resolve_placement


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit="it", dynamic_ncols=True)


# ---- activation records --------------------------------------------------------------------

def run_activations(model: str, sources: Sequence[str], layers: str | None, out: str | Path,
                    params: RecordParams, *,
                    cache_dir: str | None = None, progress: bool = True,
                    device: str | Placement | None = None, dtype: str | None = None,
                    units: str | None = None) -> Path:
    """Write records for ``layers`` into ``out/{model}``; existing layers are kept and skipped.

    ``device`` and ``dtype`` place the model (:mod:`superpose.models.device`); a folder holding
    records made in another dtype is refused. ``units`` (an SAE folder or a concept file): records
    of its units at its layer instead of the neurons, in ``out/{model}--sae-NAME`` or
    ``out/{model}--concepts-NAME``, the units' identity in ``meta.json``.
    """
    from superpose.activations.collect import collect_records, cut_sequences
    from superpose.corpus.sources import iter_documents
    from superpose.explainer.local_models import load_local_model
    placement = resolve_placement(device, dtype)
    source = None
    if units is not None:
        from superpose.units.formats import load_sae
        from superpose.units.sae import units_run_name

        source = load_sae(units)
    elif layers is None:
        raise SuperposeError("give --layers (the blocks whose neurons are recorded), or --units")
    lm = load_local_model(model, cache_dir=cache_dir, device=placement)
    if source is not None:
        source.check_model(lm)
        chosen = [source.layer] if layers is None else parse_range(layers, lm.n_layers, "layer")
        if chosen != [source.layer]:
            raise SuperposeError(f"the units of {units} are at layer {source.layer}: record that layer "
                                 "(or leave --layers out)")
    else:
        chosen = parse_range(layers, lm.n_layers, "layer")
    folder = Path(out) / (lm.name if source is None else units_run_name(lm.name, source.identity()))
    corpus = {"sources": list(sources), "seq_len": params.seq_len,
              "max_tokens": params.max_tokens, "seed": params.seed}
    meta_path = folder / "meta.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("corpus") != corpus or old.get("model") != lm.name:
            raise SuperposeError(f"{folder} holds records of another run ({old.get('model')}, "
                                 f"{old.get('corpus')}); choose another --out")
        if old.get("units") != (None if source is None else source.identity()):
            held = (old.get("units") or {}).get("path", "the MLP neurons")
            raise SuperposeError(f"{folder} holds records of other units ({held}); choose another --out")
        if old.get("dtype", "float32") != placement.dtype:
            raise SuperposeError(f"{folder} holds records made in {old.get('dtype', 'float32')}, "
                                 f"not {placement.dtype}; choose another --out")
    todo = [layer for layer in chosen if not layer_path(folder, layer).exists()]
    if not todo:  # every layer is there already: nothing to do (the CLI says where they are)
        return folder
    if meta_path.exists():
        sequences = np.load(folder / "sequences.npy")
    else:
        sequences = cut_sequences(lm.tokenizer, _documents(iter_documents, sources),
                                  params.seq_len, params.max_tokens)
    modules = {layer: lm.adapter.mlp_out_proj(lm.adapter.blocks(lm.model)[layer])
               for layer in todo}
    passes = 2 if params.per_quantile > 0 else 1
    start = time.monotonic()
    how: dict[str, Any] = {}
    with _progress(passes * len(sequences), f"records {lm.name} layers {layers}",
                   progress) as bar:
        result = collect_records(lm.model, modules, sequences, top_k=params.top_k,
                                 n_random=params.n_random, per_quantile=params.per_quantile,
                                 batch_size=params.batch_size, seed=params.seed,
                                 progress=bar.update,
                                 spill_limit=int(params.spill_limit_gb * (1 << 30)),
                                 spill_dir=params.spill_dir, report=how,
                                 units=None if source is None else _units_hook(lm, source))
    folder.mkdir(parents=True, exist_ok=True)
    if not meta_path.exists():
        _write_sequences(folder, sequences, lm.tokenizer)
    for layer, records in result.items():
        save_layer(folder, layer, records)
    # dtype and device are named only off the default, so default records keep their metadata.
    where = {} if placement.is_default else {"dtype": placement.dtype, "device": placement.device}
    write_meta(folder, {
        **where, "model": lm.name, "model_source": lm.source, "n_layers": lm.n_layers,
        "n_neurons": lm.n_neurons if source is None else source.n_units(),
        **({} if source is None else {"units": source.identity()}),
        "vocab_size": lm.vocab_size, "corpus": corpus,
        "n_sequences": int(len(sequences)), "n_tokens": int(sequences.size),
        "top_k": params.top_k, "n_random": params.n_random,
        "per_quantile": params.per_quantile, "activation": "input of the MLP out projection" if source is None else
        f"{source.unit_name} activation: its encoder on {source.in_hook.name}",
        "quantile_method": "two passes: fixed asinh histogram of per-sequence maxima, then "
                           "per-bucket uniform samples",
        "second_pass_last_run": how.get("second_pass"), "created": timestamp(),
        "seconds_last_run": round(time.monotonic() - start, 1), "versions": versions()})
    return folder


def _units_hook(lm: Any, source: Any) -> Any:
    """``(install, encode, width)`` for :func:`superpose.activations.collect.collect_records`: the units'
    encoder on their input site."""
    from superpose.activations.probe import hook_site

    hook = source.in_hook
    return (lambda keep: hook_site(lm, hook.layer, hook.site, keep), source.encode, source.n_units())


def _documents(iter_documents: Callable[[str], Iterator[str]], sources: Sequence[str]
               ) -> Iterator[str]:
    for source in sources:
        yield from iter_documents(source)


def _write_sequences(folder: Path, sequences: np.ndarray, tokenizer: Any) -> None:
    from superpose.core.fileio import atomic_path, write_json_atomic

    with atomic_path(folder / "sequences.npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, sequences)
    ids = np.unique(sequences)
    write_json_atomic(folder / "tokens.json",
                      {str(int(i)): tokenizer.decode([int(i)]) for i in ids})


# ---- back-ends -------------------------------------------------------------------------------

def _neuron_or_status(store: RecordStore, layer: int, neuron: int
                      ) -> tuple[NeuronRecords | None, dict[str, Any]]:
    row: dict[str, Any] = {"layer": layer, "neuron": neuron, "records_model": store.model}
    records = store.neuron(layer, neuron)
    if not records.top or records.stats["max"] <= 0:
        row.update(status="dead", error="the neuron never activates above zero on the corpus")
        return None, row
    return records, row


# ---- outcome of a job ------------------------------------------------------------------------

@dataclass(frozen=True)
class JobSummary:
    """What a run of ``explain`` or ``score`` left: rows written now and how many failed."""

    path: Path
    written: int
    failed: int
    first_error: str | None = None

    def check(self, what: str = "neuron(s)") -> None:
        """A one-line :class:`SuperposeError` when anything failed; finished rows stay on disk
        and the next run retries only the failed ones."""
        if self.failed:
            raise SuperposeError(
                f"{self.failed} of {self.written} {what} ended in error (finished ones are kept "
                f"in {self.path}; rerun the same command to retry); first error: "
                f"{self.first_error}")


def summarize(path: str | Path, rows: Sequence[dict[str, Any]]) -> JobSummary:
    errors = [r for r in rows if r.get("status") == "error"]
    return JobSummary(Path(path), len(rows), len(errors),
                      str(errors[0].get("error")) if errors else None)


def latest_failures(path: str | Path, key: Callable[[dict[str, Any]], Any]) -> JobSummary:
    """The summary of a JSON-lines file by the last row of each ``key`` (later rows are retries)."""
    last = {key(r): r for r in read_jsonl(path)}
    return summarize(path, list(last.values()))


# ---- explanations ----------------------------------------------------------------------------

def run_explain(records_dir: str | Path, layer: int, neurons: str, out: str | Path,
                backend: Backend, *, max_records: int = 10, progress: bool = True
                ) -> JobSummary:
    """Explain each chosen neuron; one JSON line per neuron in ``out``.

    Returns what this run wrote; :meth:`JobSummary.check` turns failures into an error.
    """
    from concurrent.futures import ThreadPoolExecutor

    from superpose.explainer.explain import explain_records

    store = RecordStore(records_dir)
    chosen = parse_range(neurons, store.meta["n_neurons"], "neuron")
    done = {(int(r["layer"]), int(r["neuron"])) for r in read_jsonl(out)
            if r.get("status") in ("ok", "dead")}
    todo = [n for n in chosen if (layer, n) not in done]
    if not todo:
        return summarize(out, [])
    client = make_client(backend)
    writer = JsonlWriter(out)
    explainer = {"backend": backend.kind, "model": client.name, "base_url": backend.base_url}

    def one(neuron: int) -> dict[str, Any]:
        start = time.monotonic()
        records, row = _neuron_or_status(store, layer, neuron)
        if records is not None:
            try:
                text = explain_records(records.split().explain, client, max_records)
                row.update(status="ok", explanation=text)
            except DeadNeuronError as err:
                row.update(status="dead", error=str(err))
            except (LLMError, ExplanationParseError) as err:
                row.update(status="error", error=str(err))
        row.update(explainer=explainer, seconds=round(time.monotonic() - start, 2),
                   created=timestamp())
        return row

    store.layer(layer)  # load once before threads share it
    written = []
    with _progress(len(todo), f"explain layer {layer}", progress) as bar, \
            ThreadPoolExecutor(max_workers=max(1, client.concurrency)) as pool:
        for row in pool.map(one, todo):
            writer.write(row)
            written.append(row)
            bar.update(1)
    return summarize(out, written)


# ---- scores ----------------------------------------------------------------------------------

def explanation_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _check_judge_params(out: str | Path, previous: list[dict[str, Any]], judging: Any) -> None:
    """Refuse to resume a file whose detection/fuzzing rows were judged otherwise (another judge
    model, prompt wording or example parameters, such as the window or the order of earlier
    versions)."""
    if judging is None:
        return
    from dataclasses import asdict

    from superpose.explainer.scorers.classifier import prompt_id

    want = {"model": judging.judge.name, "prompt": prompt_id(), **asdict(judging.params)}
    for row in previous:
        for key, got in (row.get("scores") or {}).items():
            if key.endswith("_judge") and isinstance(got, dict):
                diff = sorted(k for k in want if got.get(k) != want[k])
                if diff:
                    raise SuperposeError(f"{out} holds {key[:-6]} scores judged with other settings ("
                                         + ", ".join(f"{k} {got.get(k)!r}, now {want[k]!r}" for k in diff)
                                         + "); choose another output file")


def run_score(records_dir: str | Path, out: str | Path, *, simulator: Any,
              explanations: Sequence[tuple[int, int, str]] = (),
              explanations_file: str | Path | None = None, embedding: bool = True,
              score_records: int = 0, calibration: bool = True,
              progress: bool = True, scorers: Sequence[str] | None = None, judge: Any = None,
              simulation: bool = True) -> JobSummary:
    """Score given ``(layer, neuron, text)`` explanations and/or those stored in a JSONL file.

    ``calibration=False`` simulates the held-out records only (half the cost): correlation and
    the embedding AUC are unchanged, the calibrated R^2 scores become undefined.

    ``score_records`` > 0 scores on at most that many top and random records of each of the
    calibration and held-out sets (:meth:`RecordSplit.limited`); an output file holding scores
    made with another limit is refused, so one file never mixes the two.

    ``scorers`` adds registered scorers by name (``detection`` and ``fuzzing`` need ``judge``, a
    :class:`~superpose.explainer.scorers.classifier.Judging`); ``simulation=False`` runs only them
    (``simulator`` may then be None). A file holding rows of another scorer set is refused.
    """
    from superpose.explainer.scorers import score_explanation
    from superpose.explainer.simulators import SimulationError

    store = RecordStore(records_dir)
    items = list(explanations)
    if explanations_file is not None:
        for row in read_jsonl(explanations_file):
            if row.get("records_model") not in (None, store.model):
                raise SuperposeError(f"{explanations_file} explains neurons of "
                                     f"{row['records_model']!r}, but {records_dir} holds "
                                     f"records of {store.model!r}")
            if row.get("status") == "ok":
                items.append((int(row["layer"]), int(row["neuron"]), str(row["explanation"])))
    if not items:
        raise SuperposeError("nothing to score: give --explanation with --neurons, or "
                             "--explanations FILE with rows of status ok")
    if score_records < 0:
        raise SuperposeError(f"--score-records must be 0 (all records) or more, not {score_records}")
    previous = read_jsonl(out)
    limits = {int(r.get("score_records", 0)) for r in previous} - {score_records}
    if limits:
        raise SuperposeError(f"{out} holds scores made with --score-records {min(limits)}, not "
                             f"{score_records}; choose another output file")
    if any(r.get("split", "top:random 1:2") != SPLIT for r in previous):
        raise SuperposeError(f"{out} holds scores made with another record split (held-out top "
                             "and random records 1:2); choose another output file")
    scorers = tuple(scorers or ())
    chosen = {"scorers": list(scorers), "simulated": simulation}
    other = [r for r in previous if {"scorers": r.get("scorers", []), "simulated": r.get("simulated", True)}
             != chosen]
    if other:
        raise SuperposeError(f"{out} holds scores of other scorers ({other[0].get('scorers', [])}, "
                             f"simulated: {other[0].get('simulated', True)}); choose another output file")
    _check_judge_params(out, previous, judge)
    done = {(int(r["layer"]), int(r["neuron"]), r.get("explanation_id"))
            for r in previous if r.get("status") in ("ok", "dead")}
    todo = [it for it in dict.fromkeys(items)
            if (it[0], it[1], explanation_id(it[2])) not in done]
    writer = JsonlWriter(out)
    written: list[dict[str, Any]] = []
    encoder = None
    if embedding and todo:
        from superpose.explainer.encoder import SentenceEncoder

        encoder = SentenceEncoder()
    with _progress(len(todo), "score", progress) as bar:
        for layer, neuron, text in sorted(todo):
            start = time.monotonic()
            records, row = _neuron_or_status(store, layer, neuron)
            row.update(explanation=text, explanation_id=explanation_id(text),
                       score_records=score_records, calibration=calibration, split=SPLIT)
            if scorers or not simulation:
                row.update(chosen)
            if records is not None:
                try:
                    split = records.split().limited(score_records)
                    if not calibration:
                        split = RecordSplit(split.explain, [], split.holdout)
                    scores = score_explanation(text, split, simulator, encoder, scorers, judge=judge,
                                               simulation=simulation, unit=records)
                    row.update(status="ok", scores=scores.to_json())
                except (SimulationError, ExplanationParseError, LLMError, ValueError) as err:
                    row.update(status="error", error=str(err))
            row.update(seconds=round(time.monotonic() - start, 2), created=timestamp())
            writer.write(row)
            written.append(row)
            bar.update(1)
    return summarize(out, written)
