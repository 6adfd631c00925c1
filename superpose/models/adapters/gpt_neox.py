"""GPT-NeoX (Pythia): ``gpt_neox.layers``, MLP output ``mlp.dense_4h_to_h`` with bias, partial
rotary embeddings from ``gpt_neox.rotary_emb``, final LayerNorm ``gpt_neox.final_layer_norm``.
With ``use_parallel_residual`` the MLP reads the block input, not the attention output; the
model's own block handles both variants."""

from superpose.models.adapters.base import Adapter

ADAPTER = Adapter(
    family="gpt_neox",
    model_types=("gpt_neox",),
    blocks_path="gpt_neox.layers",
    mlp_out_path="mlp.dense_4h_to_h",
    final_norm_path="gpt_neox.final_layer_norm",
    rotary_path="gpt_neox.rotary_emb",
)
