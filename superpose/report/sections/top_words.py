"""Top activating words of the neuron (MaxAct at word granularity), from ``top_words_{LL}.csv.gz``
next to the activation records (``superpose top-words``): the records folder given with
``--records``, or ``--input top-words=DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from superpose.report.sections import Section

SHOWN = 30


def collect(data: Any, layer: int, neurons: list[int]) -> dict[int, Any]:
    from superpose.activations.top_words import read_top_words, words_path

    folder = data.extra.get("top-words") or data.inputs.get("records")
    if not folder or not words_path(folder, layer).is_file():
        return {}
    table = read_top_words(Path(folder), layer)
    return {n: {"words": [[w.word, w.max_act, w.mean_act, w.count] for w in table[n][:SHOWN]]}
            for n in neurons if n in table}


JS = r'''
if (!ctx.data) { return null; }
return '<p class="note">Words whose occurrences in the neuron\'s activation records activate it most: largest and ' +
  'mean activation of an occurrence, and how many occurrences (superpose top-words).</p>' +
  ctx.table(["word", "max", "mean", "count"], ctx.data.words.map(function (w) {
    return [ctx.esc(w[0]), ctx.num(w[1]), ctx.num(w[2]), ctx.esc(String(w[3]))];
  }), [1, 2, 3]);
'''

SECTION = Section("top_words", "Top activating words", JS, collect)
