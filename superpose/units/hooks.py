"""Where an SAE sits in the model: its hook's layer and site, parsed from the names people use.

Three sites have an output direction the projection can run from: ``resid_pre`` (entering block
``l``: Hi-C runs blocks ``l .. L-1``), ``resid_post`` (leaving block ``l``) and ``mlp_out`` (the
MLP output of block ``l``, added to the residual at the end of the block); for the last two Hi-C
runs blocks ``l+1 .. L-1``. Sites inside a block (after attention, before the MLP) would need half
a block and are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from superpose.core.errors import SuperposeError

SITES = ("resid_pre", "resid_post", "mlp_out")
IN_SITES = SITES + ("mlp_in",)  # where an encoder may read (a transcoder reads the MLP input)

# TransformerLens names (SAELens): blocks.L.hook_resid_pre / hook_resid_post / hook_mlp_out.
_TL = re.compile(r"^blocks\.(\d+)\.(?:hook_)?(resid_pre|resid_post|resid_mid|mlp_out|attn_out|"
                 r"attn\.hook_z|hook_z|ln2\.hook_normalized|mlp\.hook_post|mlp\.hook_pre)$")
# Module paths of Hugging Face models (sparsify hookpoints): layers.L, layers.L.mlp, h.L, ...
_HF = re.compile(r"^(?:model\.|transformer\.|gpt_neox\.)?(?:layers|h)\.(\d+)(?:\.(\w+))?$")
_HF_SITES = {None: "resid_post", "mlp": "mlp_out"}
_TL_SITES = {"ln2.hook_normalized": "mlp_in"}


@dataclass(frozen=True)
class Hook:
    """The hook an SAE reads from and writes to: block ``layer``, ``site`` (see :data:`SITES`)."""

    layer: int
    site: str
    name: str

    def first_block(self) -> int:
        """The first block a decoder row passes through in Hi-C."""
        return self.layer if self.site == "resid_pre" else self.layer + 1


def parse_hook(name: str, *, reading: bool = False) -> Hook:
    """A :class:`Hook` from a TransformerLens hook name or a module path; one-line error if the
    site is not one the projection can start from (``reading``: one an encoder can read)."""
    text = str(name).strip()
    match = _TL.match(text)
    if match:
        layer, site = int(match.group(1)), _TL_SITES.get(match.group(2), match.group(2))
    else:
        match = _HF.match(text)
        if not match:
            raise SuperposeError(f"cannot read a layer from the SAE hook {text!r}: expected e.g. "
                                 "blocks.8.hook_resid_post, blocks.8.hook_mlp_out or layers.8 "
                                 "(pass --sae-hook to name it)")
        layer, site = int(match.group(1)), _HF_SITES.get(match.group(2), match.group(2))
    if site not in (IN_SITES if reading else SITES):
        raise SuperposeError(f"the SAE hook {text!r} writes to {site}, inside a block: only latents "
                             f"of {', '.join(SITES)} hooks have an output direction in the residual "
                             "stream that the projection can run")
    return Hook(layer, site, text)
