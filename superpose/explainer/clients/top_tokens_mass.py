"""``--backend top-tokens-mass``: the top-tokens explainer with the variant chosen by measurement.

The tokens a unit fires on most by activation mass (the sum of its activations above zero over
every occurrence in the explain records), named until they hold half of the records' mass, at
most ten, as a bare list ("length, performance, color, ..."). It was chosen among 20 variants on
dev neurons and then beat the committed five-by-peak explainer on the test neurons of the
comparison (docs/llm.md, "Variants of top-tokens"). The same text as ``--backend top-tokens
--tokens 10 --token-rank mass --token-share 0.5 --token-prefix ''``.
"""

from __future__ import annotations

from superpose.config import TOP_TOKENS_MASS, Backend
from superpose.core.registry import Kind
from superpose.explainer.clients.base import DiskCache
from superpose.explainer.clients.top_tokens import TopTokensExplainer


def build(backend: Backend, cache: DiskCache | None) -> TopTokensExplainer:
    return TopTokensExplainer(TOP_TOKENS_MASS)


CLIENT = Kind("top-tokens-mass", "no language model: the tokens with most activation mass in the explain records, "
              "up to half of it and at most ten (chosen on dev neurons, better on test ones; docs/llm.md)", build)
