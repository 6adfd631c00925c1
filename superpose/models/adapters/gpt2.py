"""GPT-2: ``transformer.h`` blocks, ``Conv1D`` MLP output (weight stored in x out, with bias),
learned absolute positions (added to the input only, so a one-position block needs none),
final ``ln_f`` LayerNorm."""

from superpose.models.adapters.base import Adapter

ADAPTER = Adapter(
    family="gpt2",
    model_types=("gpt2",),
    blocks_path="transformer.h",
    mlp_out_path="mlp.c_proj",
    final_norm_path="transformer.ln_f",
    out_weight_in_out=True,
    note="c_proj is a Conv1D; its bias is part of every neuron's output direction",
)
