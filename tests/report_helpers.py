"""Small, hand-written report inputs: a mining run with its random baseline, explanations, records.

Written with the projects' own writers (``write_unit``, ``write_bulk``, the LLM path's
``save_layer``), so the report reads the same files a real run leaves, in milliseconds.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from superpose.mining.pool import PoolResult, Topic
from superpose.mining.store import write_bulk, write_unit

MODEL = "tiny-model"
SOURCES = ["ovos-wiki"]
PWNED = "<script>window.__pwned=1</script>"
VOCAB = ["apple", "banana", "cherry", "grape", "lemon", "boat", "coral", "crab", "fish", "reef",
         "comet", "moon", "orbit", "planet", "star", "x<b>y", "filler"]
FRUIT = ("apple", "banana", "cherry")
SEA = ("boat", "crab", "fish")
# (layer, neuron, polarity) -> topics as (words, score); a unit absent here has empty files
TOPICS = {
    (0, 1, "pos"): [(FRUIT, 0.42), (SEA, 0.18)],
    (0, 1, "neg"): [(("comet", "moon", "star"), 0.25)],
    (0, 2, "pos"): [(("planet", "orbit", "x<b>y"), 0.05)],
    (1, 0, "pos"): [(SEA, 0.31)],
}
MINED_UNITS = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]  # run.json asks for 0-1 x 0-2: (1, 2) is not mined yet


def _ids(words: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(VOCAB.index(w) for w in words)


def _result(topics: list[tuple[tuple[str, ...], float]]) -> PoolResult:
    return PoolResult(isets=[list(_ids(words)) + [VOCAB.index("filler")] for words, _ in topics],
                      topics=[Topic(_ids(words), score, "optimal", 0.0, 0) for words, score in topics])


def make_run(folder: Path, model: str = MODEL, sources: list[str] = SOURCES) -> Path:
    """A finished run ``folder/model/hi-c`` with a random baseline, on a corpus of ``sources``."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "meta.json").write_text(json.dumps({"request": {"sources": sources}}))
    run = folder / model / "hi-c"
    run.mkdir(parents=True)
    request = {"model": model, "model_source": model, "mode": "hi-c", "layers": "0-1", "neurons": "0-2",
               "tau": 40, "params": {"theta_l": 0.1, "theta_u": 1.0, "kappa_l": 3, "kappa_u": 6, "k": 3},
               "corpus": {"path": str(corpus)}}
    (run / "run.json").write_text(json.dumps({"format": "superpose-mine", "format_version": 1, "request": request}))
    for out, scale in ((run, 1.0), (run / "random", -0.5)):
        for layer, neuron in MINED_UNITS:
            for polarity in ("pos", "neg"):
                mined = TOPICS.get((layer, neuron, polarity), [])
                topics = [(w, s * scale) for w, s in (mined[:1] if scale < 0 else mined)]
                write_unit(out, layer, neuron, polarity, list(VOCAB), _result(topics), VOCAB)
        write_bulk(out, model, "hi-c", MINED_UNITS)
    return run


def write_explanations(path: Path, model: str = MODEL) -> Path:
    """Explanation and score rows: (0, 0) carries a script tag, (1, 0) is dead, (5, 7) is not in the run."""
    rows = [
        {"layer": 0, "neuron": 0, "records_model": model, "status": "ok", "explanation": f"fruit {PWNED} & more"},
        {"layer": 0, "neuron": 1, "records_model": model, "status": "ok", "explanation": "fruit names"},
        {"layer": 1, "neuron": 0, "records_model": model, "status": "dead", "error": "never activates"},
        {"layer": 5, "neuron": 7, "records_model": model, "status": "ok", "explanation": "elsewhere"},
        {"layer": 0, "neuron": 1, "records_model": model, "status": "ok", "explanation": "fruit names",
         "explanation_id": "x", "scores": {"correlation": 0.5, "r2": {"undefined": "constant activations"},
                                           "simulator": "test-sim"}},
        {"layer": 0, "neuron": 0, "records_model": model, "status": "ok", "explanation": f"fruit {PWNED} & more",
         "explanation_id": "y", "scores": {"correlation": 0.2}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"layer": 9, "neu')  # torn last line
    return path


def write_compare(path: Path, model: str = MODEL, corpus: str = " ".join(SOURCES)) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["layer", "neuron", "model", "corpus", "topic", "topic_score", "llm_score"])
        writer.writerow([0, 1, model, corpus, " ".join(FRUIT), 0.35, 0.5])
        writer.writerow([0, 0, model, corpus, PWNED, 0.1, 0.2])
    return path


def write_records(folder: Path, model: str = MODEL, sources: list[str] = SOURCES) -> Path:
    """Records of layer 0 only (3 neurons, 2 top and 2 random sequences of 4 tokens)."""
    from superpose.activations.formats import save_layer, write_meta
    from superpose.activations.records import LayerRecords

    folder.mkdir(parents=True)
    tokens = {0: " apple", 1: PWNED, 2: " banana", 3: "\n", 4: " sea"}
    sequences = np.array([[0, 1, 2, 3], [4, 4, 0, 2], [3, 3, 4, 4]], dtype=np.int32)
    np.save(folder / "sequences.npy", sequences)
    (folder / "tokens.json").write_text(json.dumps({str(k): v for k, v in tokens.items()}))
    n, length = 3, 4
    acts = np.zeros((3, length, n), dtype=np.float32)
    acts[0, :, :] = np.array([2.0, 0.5, 1.0, 0.0])[:, None]
    acts[1, :, :] = np.array([0.0, 0.0, 1.5, -0.5])[:, None]
    top_ids = np.tile(np.array([[0], [1]]), (1, n))
    layer = LayerRecords(
        top_ids=top_ids, top_max=np.tile(np.array([[2.0], [1.5]]), (1, n)), top_acts=acts[top_ids[:, 0]],
        random_ids=np.array([2, 1]), random_acts=acts[[2, 1]], quantile_ids=np.full((0, 0, n), -1),
        quantile_acts=np.zeros((0, 0, length, n)), quantile_edges=np.zeros((0, 2, n)), quantiles=np.zeros((0, 2)),
        mean=np.full(n, 0.3), var=np.full(n, 0.4), max=np.full(n, 2.0), n_tokens=12)
    save_layer(folder, 0, layer)
    write_meta(folder, {"model": model, "n_neurons": n, "n_layers": 2, "corpus": {"sources": sources}})
    return folder


def make_inputs(folder: Path) -> dict[str, Path]:
    """Every input of a full report, consistent with each other."""
    return {"results": make_run(folder), "explanations": write_explanations(folder / "explanations.jsonl"),
            "records": write_records(folder / "records" / MODEL), "compare": write_compare(folder / "compare.csv")}
