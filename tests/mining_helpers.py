"""A tiny model and corpus whose words form clear clusters, so mining finds topics in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from superpose.corpus.build import CorpusParams, build_corpus
from tests.model_helpers import VOCAB, byte_level_tokenizer, save_tiny

CLUSTERS = {
    "fruit": "apple banana cherry grape lemon mango melon peach pear plum",
    "sea": "boat coral crab fish harbor island reef sailor shore wave",
    "space": "comet galaxy moon nebula orbit planet rocket saturn star venus",
    "music": "cello choir drum flute guitar harp melody piano song violin",
    "weather": "cloud fog frost hail rain sleet snow storm thunder wind",
    "city": "avenue bridge metro museum park plaza street subway tower traffic",
}
WORDS = [w for words in CLUSTERS.values() for w in words.split()]
PARAMS = dict(theta_l=0.1, theta_u=1.0, kappa_l=3, kappa_u=6, k=3)


def tokens() -> list[str]:
    """VOCAB tokens: the cluster words (with the space marker), then filler tokens."""
    out = ["<unk>", "<s>", "</s>"] + [f"Ġ{w}" for w in WORDS]
    out += [f"x{i}" for i in range(VOCAB - len(out))]
    return out


def make_corpus(folder: Path, seed: int = 0) -> Path:
    """Documents that each draw eight words from one cluster plus two from anywhere."""
    rng = np.random.default_rng(seed)
    lines = []
    groups = [g.split() for g in CLUSTERS.values()]
    for _ in range(600):
        group = groups[rng.integers(len(groups))]
        words = list(rng.choice(group, size=8, replace=False)) + list(rng.choice(WORDS, size=2))
        lines.append(" ".join(rng.permutation(words)))
    text = folder / "clusters.txt"
    text.write_text("\n".join(lines) + "\n")
    build_corpus([str(text)], folder / "corpus", CorpusParams(window=10, min_count=5, stopwords="keep", min_length=1))
    return folder / "corpus"


def make_model(folder: Path, seed: int = 0) -> Path:
    return save_tiny("llama", folder / "tiny-llama", byte_level_tokenizer(tokens()), seed=seed)
