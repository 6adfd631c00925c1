"""No puzzle's explanation, nor its distinctive words, appears in any prompt a model sees."""

import re

import numpy as np

from superpose.activations.formats import ActivationRecord
from superpose.explainer.prompts import (
    EXAMPLES,
    STYLES,
    explanation_messages,
    number_list_messages,
    simulation_layout,
)
from superpose.explainer.puzzles import PUZZLES, puzzle
from superpose.explainer.scorers.classifier import TASKS
from superpose.explainer.simulators.contrast import ContrastSimulator

# Words too general to give an explanation away (they describe any neuron's explanation).
GENERIC = {"word", "words", "such", "with", "that", "than", "from", "like", "more", "names",
           "name", "letters", "letter", "whichever", "comes", "following", "between", "mostly",
           "first"}
PLACEHOLDER = "PLACEHOLDER"


def prompt_texts() -> list[str]:
    """Every fixed text of every prompt, with the query's explanation left as a placeholder."""
    record = ActivationRecord([" alpha", " beta", " gamma"], np.array([0.0, 1.0, 0.0]))
    texts = [simulation_layout(PLACEHOLDER, [" alpha"], top).text() for top in (9, 10)]
    texts += [m["content"] for example in (False, True)
              for m in explanation_messages([record], example=example)]
    texts += [m["content"] for style in STYLES for m in explanation_messages([record], style=style)]
    texts += [m["content"] for m in number_list_messages(PLACEHOLDER, [" alpha"])]
    texts.append(ContrastSimulator.__init__.__defaults__[0])  # the neutral baseline explanation
    texts += [ex.explanation for ex in EXAMPLES]
    # the detection and fuzzing judge's instructions and worked examples, as one prompt of each
    texts += [m["content"] for task in TASKS.values()
              for m in task.messages(PLACEHOLDER, [" alpha beta", " <<gamma>>"])]
    return texts


def distinctive(explanation: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", explanation.lower()) if len(w) >= 4} - GENERIC


def test_prompts_hold_no_puzzle_explanation_or_its_distinctive_words():
    texts = prompt_texts()
    assert any("unknown" in t for t in texts)  # the collection really holds the prompts
    assert sum("\n2: " in t for t in texts) >= 6  # ... and the judge's (2 tasks x 3 turns)
    for text in texts:
        lower = text.lower()
        seen = set(re.findall(r"[a-z]+", lower))
        for p in PUZZLES:
            assert p.explanation.lower() not in lower, (p.name, text[:80])
            assert not distinctive(p.explanation) & seen, (p.name, distinctive(p.explanation)
                                                           & seen)


def test_the_check_catches_a_leak():
    leaked = "Explanation: names of months such as January"
    assert distinctive(puzzle("months").explanation) & set(re.findall(r"[a-z]+", leaked.lower()))


def test_worked_examples_switch_from_unknown_to_numbers():
    layout = simulation_layout("x", [" a"], 10)
    switched = 0
    for (_, rows), ex in zip(layout.examples, EXAMPLES, strict=True):
        values = [v for _, v in rows]
        assert values[:ex.reveal] == ["unknown"] * ex.reveal
        assert all(v.isdigit() for v in values[ex.reveal:])
        assert any(v != "0" for v in values[ex.reveal:])
        switched += ex.reveal > 0
    assert switched >= 2
    assert layout.text().endswith("Explanation: x\n a\tunknown\n")
