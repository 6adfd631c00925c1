"""LLaMA and its close relatives (Mistral, Qwen2, Qwen3, SmolLM): pre-norm blocks under
``model.layers``, gated MLP with ``down_proj`` (no bias unless ``mlp_bias``), rotary embeddings
from ``model.rotary_emb`` shared by all layers, final RMSNorm ``model.norm``."""

from superpose.models.adapters.base import Adapter

ADAPTER = Adapter(
    family="llama",
    model_types=("llama", "mistral", "qwen2", "qwen3"),
    blocks_path="model.layers",
    mlp_out_path="mlp.down_proj",
    final_norm_path="model.norm",
    rotary_path="model.rotary_emb",
)
