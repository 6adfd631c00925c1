"""Concepts learned from a layer's MLP activations (``superpose concepts fit``), written as a concept
file that every command taking ``--units`` reads (:mod:`superpose.units.concepts`)."""

from superpose.concepts.fit import ConceptFit, fit_concepts, fit_to_file, neuron_activations
from superpose.concepts.seminmf import semi_nmf

__all__ = ["ConceptFit", "fit_concepts", "fit_to_file", "neuron_activations", "semi_nmf"]
