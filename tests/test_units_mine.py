"""`mine`, `project`, `summary` and `report` on SAE latents, and `--pooling subtokens` end to end:
the run's files and metadata, and bad input refused before anything is written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from superpose.cli import main
from superpose.mining.store import read_bulk, read_unit
from superpose.models import load_model
from superpose.projection.store import load_layer
from tests.mining_helpers import CLUSTERS, make_corpus, make_model, tokens
from tests.model_helpers import HIDDEN, LAYERS, save_tiny, sentencepiece_tokenizer
from tests.sae_helpers import random_weights, write_saelens

OPTIONS = ["--tau", "40", "--kappa-l", "3", "--kappa-u", "6", "--k", "3", "--workers", "1", "--no-progress"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("units-mine")
    model, corpus = make_model(folder), make_corpus(folder)
    lm = load_model(model)
    # latent i points at the unembedding rows of cluster i's words
    unembed = lm.model.get_output_embeddings().weight.detach()
    vocab = tokens()
    w = random_weights(HIDDEN, d_sae=len(CLUSTERS))
    for i, words in enumerate(CLUSTERS.values()):
        rows = [vocab.index(f"Ġ{word}") for word in words.split()]
        w["W_dec"][i] = (unembed[rows].sum(0) * 5).numpy()
    sae = write_saelens(folder / "sae-cluster", w, f"blocks.{LAYERS - 1}.hook_resid_post")
    return model, corpus, sae


def test_mine_summary_report_on_sae_latents(inputs, tmp_path, capsys):
    model, corpus, sae = inputs
    out = tmp_path / "o"
    args = ["--corpus", str(corpus), "--out", str(out), "--model", str(model), "--sae", str(sae), *OPTIONS]
    assert main(["mine", *args]) == 0
    run = out / "tiny-llama--sae-sae-cluster" / "hi-c"
    request = json.loads((run / "run.json").read_text())["request"]
    assert request["units"]["kind"] == "sae" and request["units"]["layer"] == LAYERS - 1
    assert request["layers"] == str(LAYERS - 1) and request["neurons"] == f"0-{len(CLUSTERS) - 1}"
    layer = load_layer(run / f"layer_{LAYERS - 1:02d}.npz")
    assert layer.meta["units"]["d_sae"] == len(CLUSTERS) and layer.meta["n_units"] == len(CLUSTERS)
    pools = read_bulk(run / "pools.csv.gz")
    assert len(pools) == 2 * len(CLUSTERS) and {r["model"] for r in pools} == {"tiny-llama--sae-sae-cluster"}
    from superpose.projection.project import neuron_logits
    from superpose.units import load_sae

    logits = neuron_logits(load_model(model), "hi-c", LAYERS - 1, source=load_sae(sae))
    vocab = tokens()
    found = 0
    for i in range(len(CLUSTERS)):
        unit = read_unit(run, LAYERS - 1, i, "pos")
        ranked = [vocab[t] for t in np.argsort(-logits[i], kind="stable")[:40]]
        assert unit["pool"] == [t[1:] for t in ranked if t.startswith("Ġ")]
        found += len(unit["topics"])
    assert found > 0
    assert main(["summary", "--run", str(run)]) == 0
    assert "| mined | all | both |" in capsys.readouterr().out
    assert main(["report", "--results", str(run), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "index.html").is_file()
    assert main(["project", "--out", str(tmp_path / "p"), "--model", str(model), "--sae", str(sae),
                 "--mode", "hi-i", "--tau", "10", "--no-progress"]) == 0
    projected = load_layer(tmp_path / "p" / "tiny-llama--sae-sae-cluster" / "hi-i" / f"layer_{LAYERS - 1:02d}.npz")
    assert projected.top_ids.shape == (len(CLUSTERS), 10)


def test_bad_sae_input_leaves_nothing(inputs, tmp_path, capsys):
    model, corpus, sae = inputs
    out = tmp_path / "o"
    base = ["mine", "--corpus", str(corpus), "--out", str(out), "--model", str(model), *OPTIONS]
    assert main([*base, "--sae", str(sae), "--layers", "0"]) == 2
    assert f"hook is at layer {LAYERS - 1}, not 0" in capsys.readouterr().err
    assert main([*base, "--sae", str(sae), "--mode", "lo-c"]) == 2
    assert "use hi-c or hi-i" in capsys.readouterr().err
    wide = write_saelens(tmp_path / "wide", random_weights(HIDDEN + 2), "blocks.1.hook_resid_post")
    assert main([*base, "--sae", str(wide)]) == 2
    err = capsys.readouterr().err
    assert f"hidden size {HIDDEN}" in err and err.count("\n") == 1
    assert main([*base, "--sae", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_mine_with_subtoken_pooling_records_it(inputs, tmp_path):
    _, corpus, _ = inputs
    model = save_tiny("llama", tmp_path / "sp-llama", sentencepiece_tokenizer([t.replace("Ġ", "▁") for t in tokens()]))
    out = tmp_path / "o"
    args = ["mine", "--corpus", str(corpus), "--out", str(out), "--model", str(model), "--layers", "0",
            "--neurons", "0-3", *OPTIONS]
    assert main([*args, "--pooling", "subtokens"]) == 0
    run = out / "sp-llama" / "hi-c"
    assert json.loads((run / "run.json").read_text())["request"]["pooling"] == "subtokens"
    assert sum(int(r["pool_size"]) for r in read_bulk(run / "pools.csv.gz")) > 0
    assert load_layer(run / "layer_00.npz").meta["corpus"]["pooling"] == "subtokens"
    assert main(args) == 2  # the default rule is another parameter: refused without --overwrite
    run_json = json.loads((run / "run.json").read_text())
    assert run_json["request"]["pooling"] == "subtokens"


def test_default_pooling_keeps_the_request_of_earlier_runs(inputs, tmp_path):
    model, corpus, _ = inputs
    out = tmp_path / "o"
    args = ["mine", "--corpus", str(corpus), "--out", str(out), "--model", str(model), "--layers", "0",
            "--neurons", "0-1", *OPTIONS]
    assert main(args) == 0
    run = out / "tiny-llama" / "hi-c"
    assert "pooling" not in json.loads((run / "run.json").read_text())["request"]  # runs before --pooling resume
    assert load_layer(run / "layer_00.npz").meta["corpus"]["pooling"] == "whole-tokens"
    assert main([*args, "--pooling", "subtokens"]) == 2


def test_sae_pools_match_the_latent_logits(inputs, tmp_path):
    from superpose.projection.project import neuron_logits
    from superpose.units import load_sae

    model, _, sae_path = inputs
    lm, sae = load_model(model), load_sae(sae_path)
    logits = neuron_logits(lm, "hi-c", LAYERS - 1, source=sae)
    with torch.no_grad():
        direct = lm.adapter.unembed(lm.model, sae.W_dec).numpy()
    np.testing.assert_allclose(logits, direct, rtol=1e-5, atol=1e-4)


def test_public_api_mines_a_latent(inputs):
    import superpose

    model, corpus, sae = inputs
    lm = superpose.load_model(model)
    unit = superpose.mine_unit(lm, corpus, LAYERS - 1, 0, sae=sae, tau=40, kappa_l=3, kappa_u=6, k=3)
    pool = superpose.unit_pool(lm, corpus, LAYERS - 1, 0, sae=sae, tau=40)
    assert unit.pool == pool and unit.unit == 0
    assert superpose.load_sae(sae).d_sae == len(CLUSTERS)
