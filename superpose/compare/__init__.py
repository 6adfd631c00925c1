"""Topics against LLM explanations on the input and the output side (a 2x2).

:mod:`~superpose.compare.run` builds the table, :mod:`~superpose.compare.topics` reads topics from
a mining run or a topics table, :mod:`~superpose.compare.stats` computes the bootstrap intervals
and the plain-words summary.
"""

from superpose.compare.run import (
    CELLS,
    COLUMNS,
    CompareParams,
    compare,
    polarity_text,
    scorer_columns,
    summarize,
    topic_text,
)

__all__ = ["CELLS", "COLUMNS", "CompareParams", "compare", "polarity_text", "scorer_columns", "summarize",
           "topic_text"]
