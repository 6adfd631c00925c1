"""Units beyond MLP neurons: latents of sparse autoencoders and transcoders.

A unit is anything with an output direction in the residual stream. A latent's direction is its
decoder row, written into the residual stream at the hook's layer; Hi-I reads it straight through
the final norm and unembedding, Hi-C first runs it through the blocks after the hook. The
readers in :mod:`superpose.units.formats` (one file per on-disk format) return a :class:`Sae`.
"""

from superpose.units.formats import load_sae
from superpose.units.hooks import Hook, parse_hook
from superpose.units.sae import Sae

__all__ = ["Hook", "Sae", "load_sae", "parse_hook"]
