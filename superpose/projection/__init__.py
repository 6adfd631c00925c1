"""Projection: each unit's logit effect on the vocabulary (the paper's "betas") and its word pools.

``project`` computes logits layer by layer, ``pools`` maps tokens to corpus words, ``store`` is the
on-disk layer file (docs/formats/projection.md) and ``run`` projects whole layers resumably.
"""
