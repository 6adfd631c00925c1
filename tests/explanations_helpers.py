"""Small files of each published format, written from the fields their own code documents.

OpenAI: neuron_explainer's dataclasses (NeuronSimulationResults, NeuronRecord,
WeightBasedSummaryOfNeuron) as JSON with ``dataclass_name``; Neuronpedia: rows of its Explanation
table in gzipped batches; delphi: explanation files holding a JSON string and score files holding
lists of judged examples.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from tests.mining_helpers import WORDS

SEQ_LEN = 16


def _record(rng: np.random.Generator, scale: float) -> dict:
    tokens = [" " + w for w in rng.choice(WORDS, size=SEQ_LEN)]
    acts = np.round(rng.random(SEQ_LEN) * scale, 4).tolist()
    return {"dataclass_name": "ActivationRecord", "tokens": tokens, "activations": acts}


def neuron_record(layer: int, neuron: int, seed: int, n_top: int = 8, n_random: int = 6) -> dict:
    rng = np.random.default_rng([seed, layer, neuron])
    top = sorted((_record(rng, 5.0) for _ in range(n_top)), key=lambda r: -max(r["activations"]))
    return {"dataclass_name": "NeuronRecord",
            "neuron_id": {"dataclass_name": "NeuronId", "layer_index": layer, "neuron_index": neuron},
            "random_sample": [_record(rng, 0.5) for _ in range(n_random)], "random_sample_by_quantile": None,
            "quantile_boundaries": None, "mean": 0.1, "variance": 0.2, "skewness": 1.0, "kurtosis": 3.0,
            "most_positive_activation_records": top}


def simulation_results(layer: int, neuron: int, texts: list[tuple[str, float | None]]) -> dict:
    scored = []
    for text, score in texts:
        sequence = {"dataclass_name": "ScoredSequenceSimulation",
                    "simulation": {"dataclass_name": "SequenceSimulation", "tokens": [" a", " b"],
                                   "expected_activations": [0.0, 1.0],
                                   "activation_scale": "simulated_normalized_activations",
                                   "distribution_values": [[0], [1]], "distribution_probabilities": [[1.0], [1.0]],
                                   "uncalibrated_simulation": None},
                    "true_activations": [0.0, 2.0], "ev_correlation_score": score, "rsquared_score": None,
                    "absolute_dev_explained_score": None}
        scored.append({"dataclass_name": "ScoredExplanation", "explanation": text,
                       "scored_simulation": {"dataclass_name": "ScoredSimulation",
                                             "scored_sequence_simulations": [sequence],
                                             "ev_correlation_score": score, "rsquared_score": 0.1,
                                             "absolute_dev_explained_score": None}})
    return {"dataclass_name": "NeuronSimulationResults",
            "neuron_id": {"dataclass_name": "NeuronId", "layer_index": layer, "neuron_index": neuron},
            "scored_explanations": scored}


def write_openai(root: Path, layer: int, neurons: list[int], seed: int = 0) -> Path:
    """``root/neuron-explainer/gpt2_small_data/{explanations,collated-activations}/...`` for ``neurons``."""
    base = root / "neuron-explainer" / "gpt2_small_data"
    for neuron in neurons:
        texts = [(f"fruit words {neuron}", round(0.1 * neuron + 0.05, 3))]
        if neuron == neurons[0]:
            texts.append((f"a worse explanation {neuron}", -0.2))
        path = base / "explanations" / str(layer) / f"{neuron}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(simulation_results(layer, neuron, texts)) + "\n")
        path = base / "collated-activations" / str(layer) / f"{neuron}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(neuron_record(layer, neuron, seed)))
    return base


def write_weight_tokens(root: Path, layer: int, neuron: int, sides: dict[str, tuple[list[str], list[float]]]) -> Path:
    path = root / "related-tokens" / "weight-based" / str(layer) / f"{neuron}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {side: {"dataclass_name": "TokensAndWeights", "tokens": tokens, "strengths": strengths}
            for side, (tokens, strengths) in sides.items()}
    path.write_text(json.dumps({"dataclass_name": "WeightBasedSummaryOfNeuron", **body}))
    return path


def neuronpedia_row(layer: int, index: int, text: str, **extra: object) -> dict:
    return {"id": f"cl{layer}x{index}", "modelId": "gpt2-small", "layer": f"{layer}-res-test", "index": str(index),
            "authorId": "someone", "description": text, "embedding": None, "typeName": "oai_token-act-pair",
            "explanationModelName": "gpt-4o-mini", "umap_x": 0.0, "umap_y": 0.0, "umap_cluster": 0,
            "umap_log_feature_sparsity": 0.0, **extra}


def write_neuronpedia(root: Path, rows: list[dict], source: str = "0-res-test") -> Path:
    path = root / "v1" / "gpt2-small" / source / "explanations" / "batch-0.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in rows))
    return path


def classifier_examples(rng: np.random.Generator, n: int = 10) -> list[dict]:
    out = []
    for i in range(n):
        activating = i % 2 == 0
        probability = float(rng.random())
        prediction = probability >= 0.5
        out.append({"str_tokens": [" a", " b"], "activations": [0.0, 1.0 if activating else 0.0],
                    "distance": 1 if activating else -1, "activating": activating, "prediction": prediction,
                    "probability": probability, "correct": prediction == activating})
    return out


def write_delphi(root: Path, module: str, latents: dict[int, str], seed: int = 0) -> Path:
    """A delphi run folder: explanations, detection scores and simulation scores."""
    rng = np.random.default_rng(seed)
    for index, text in latents.items():
        name = f"{module}_latent{index}.txt"
        for sub, body in (("explanations", text), ("scores/detection", classifier_examples(rng)),
                          ("scores/simulation", [{"distance": 1, "ev_correlation_score": 0.3},
                                                 {"distance": -1, "ev_correlation_score": 0.25}])):
            path = root / sub / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(body))
    return root
