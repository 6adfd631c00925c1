"""CLI: search every topic of a mining run by word."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Literal

from superpose.cli.args import Command, option, positional


@dataclass
class SearchArgs:
    """List the units and polarities whose topics contain the given words, best topic NPMI first.

    Reads the run in any layout (per-unit files, bulk tables, shards). The first search of a run
    builds a word index (RUN/search/, or --index DIR) that later searches reuse until the run's
    files change. A word in no topic gives an empty result (exit 0) and says so. With --corpus,
    the corpus is checked to be the one the run was mined with, and a word missing from every
    topic is also looked up in its vocabulary.
    """

    words: list[str] = positional("words to look for (lowercased)", metavar="WORD")
    run: str = option("a mining run folder, {out}/{model}/{mode}", metavar="DIR")
    match: Literal["all", "any"] = option("topics holding all the words, or any of them", "all")
    limit: int = option("show at most N topics (0: all)", 20, metavar="N")
    format: Literal["table", "json"] = option("output: a table, or JSON (one object with every hit)", "table")
    index: str | None = option("word-index folder (default: RUN/search)", None, metavar="DIR")
    corpus: str | None = option("the run's corpus folder, to check it and explain words in no topic", None,
                                metavar="DIR")


def run_search(args: SearchArgs) -> int:
    from superpose.core.errors import SuperposeError
    from superpose.mining.search import WordIndex, check_corpus
    from superpose.mining.store import RunReader

    if args.limit < 0:
        raise SuperposeError(f"--limit must be 0 (all) or more, not {args.limit}")
    reader = RunReader(args.run)
    vocab = check_corpus(reader.run_json(), args.corpus) if args.corpus else None
    index = WordIndex(args.run, args.index, reader=reader, on_build=lambda folder: print(
        f"building the word index of this run in {folder} (once; later searches reuse it) ...", file=sys.stderr))
    result = index.search(args.words, args.match, None if args.limit == 0 else args.limit)
    notes = []
    for word in result.absent:
        where = "" if vocab is None else (" (a word of the corpus)" if word in set(vocab) else
                                          " (not even in the corpus vocabulary)")
        notes.append(f"{word!r} is in no topic of this run{where}")
    if args.format == "json":
        print(json.dumps({"words": result.words, "match": result.match, "total": result.total,
                          "absent": result.absent, "hits": [h.to_json() for h in result.hits]}, indent=1))
        return 0
    for note in notes:
        print(note)
    if not result.total:
        print(f"no topic holds {args.match} of: {' '.join(result.words)}")
        return 0
    print(f"{result.total} topic(s) hold {args.match} of: {' '.join(result.words)}"
          + (f"; the best {len(result.hits)} by NPMI" if len(result.hits) < result.total else ""))
    print(f"{'layer':>5} {'neuron':>6} {'pol':<3} {'rank':>4} {'NPMI':>6}  topic")
    for h in result.hits:
        print(f"{h.layer:>5} {h.neuron:>6} {h.polarity:<3} {h.rank:>4} {h.score:>6.3f}  {' '.join(h.words)}")
    return 0


COMMANDS = [Command(("search",), SearchArgs, run_search)]
