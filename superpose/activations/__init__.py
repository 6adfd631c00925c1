"""Reading the model under study: its units' activations on text and what they do to its output.

Modules (imported on use, since several need torch):

* :mod:`~superpose.activations.collect` / :mod:`~superpose.activations.records` - streaming
  per-unit activation records of a model run over corpus text;
* :mod:`~superpose.activations.formats` - their on-disk format and the
  explain/calibration/held-out split;
* :mod:`~superpose.activations.top_words` - top activating words (MaxAct at word granularity);
* :mod:`~superpose.activations.probe` - a unit's activations on given texts;
* :mod:`~superpose.activations.dispersion` - how dispersed a token's contexts are (polysemanticity);
* :mod:`~superpose.activations.steering` - the output side: what clamping a unit does to the
  next token.
"""
