"""CLI: explanations published by other tools (OpenAI, Neuronpedia, delphi) in, our topics out."""

from __future__ import annotations

from dataclasses import dataclass

from superpose.cli.args import Command, option, positional
from superpose.config import CompareParams


def _import_formats() -> tuple[str, ...]:
    from superpose.explanations import format_names

    return format_names()


def _export_formats() -> tuple[str, ...]:
    from superpose.explanations import format_names

    return format_names(writable=True)


@dataclass(kw_only=True)
class ImportArgs:
    """Import published explanations as our explanations JSON lines (one row per unit).

    Each row has the unit's layer and index, the explanation, where it came from (format, file and
    line, explainer model when known) and every score the source published, under
    published_scores (ours stay under scores, written by `score`/`compare`). A unit with several
    explanations keeps the one its source scored best; the others go under alternatives.
    openai: OpenAI's neuron-explainer data (explanations/, collated-activations/ as our activation
    records); neuronpedia: export batches (batch-N.jsonl.gz); delphi: a run folder (explanations/,
    scores/). `compare --explanations FILE` and `report --explanations FILE` read the output.
    Field mapping: docs/explanations.md.
    """

    source: str = positional("a file or folder of the format", metavar="SOURCE")
    format: str = option("the source's format", choices=_import_formats)
    out: str = option("explanations JSON-lines file to write", metavar="FILE.jsonl")
    model: str | None = option("the model whose units these are (name, folder or hub id as for `activations`); "
                               "OpenAI's layout names gpt2 or gpt2-xl", None, metavar="NAME")
    sae: str | None = option("the SAE whose latents these are (Neuronpedia or delphi sources of SAE latents); "
                             "checks layer and width", None, metavar="PATH")
    sae_hook: str | None = option("override the SAE's hook", None, metavar="NAME")
    explainer_model: str | None = option("the explainer model, where the source does not name it", None,
                                         metavar="NAME")
    records: str | None = option("where OpenAI's activation records go, as our records folder (default: the "
                                 "folder of --out, where `compare` looks)", None, metavar="DIR")


def run_import(args: ImportArgs) -> int:
    from superpose.explanations import ImportOptions, import_explanations
    from superpose.models import model_name

    sae = None
    if args.sae:
        from superpose.units import load_sae

        sae = load_sae(args.sae, hook=args.sae_hook)
    options = ImportOptions(model=model_name(args.model) if args.model else None, model_source=args.model, sae=sae,
                            explainer_model=args.explainer_model)
    out, count, records = import_explanations(args.format, args.source, args.out, options, args.records)
    print(f"{count} unit(s) in {out}")
    if records is not None:
        print(f"activation records in {records}")
    return 0


@dataclass(kw_only=True)
class ExportArgs:
    """Export a run's topics as explanations in another tool's upload format, to score them there.

    One text per unit with a positive topic: its best --max-topics topics, "words such as ...", as
    `compare` reads them. delphi: OUT/explanations/{module}_latent{index}.txt (run delphi with
    --explainer none on the same folder); neuronpedia: OUT/v1/{MODEL}/{SOURCE}/explanations/
    batch-N.jsonl.gz, rows of its Explanation table.
    """

    format: str = option("the target format", choices=_export_formats)
    results: str = option("a mining run folder ({out}/{model}/{mode}) or its topics table", metavar="PATH")
    out: str = option("output folder", metavar="DIR")
    max_topics: int = option("topics joined into a unit's text", 1, metavar="N")
    module: str = option("delphi: the hookpoint of a layer, with {layer}", "layers.{layer}.mlp", metavar="TEMPLATE")
    overwrite: bool = option("delphi: replace a non-empty OUT/explanations", False)
    model_id: str | None = option("neuronpedia: its model id (default: the run's model)", None, metavar="ID")
    source: str = option("neuronpedia: the source id of a layer, with {layer}", "{layer}-mlp", metavar="TEMPLATE")
    type_name: str = option("neuronpedia: typeName (an explanation type the receiving instance knows)",
                            "superpose-topics", metavar="NAME")
    author_id: str = option("neuronpedia: authorId", "", metavar="ID")


def run_export(args: ExportArgs) -> int:
    from superpose.explanations import export_explanations

    settings = {"module": args.module, "overwrite": args.overwrite, "model_id": args.model_id,
                "source": args.source, "type_name": args.type_name, "author_id": args.author_id,
                "explainer": "superpose topics (no LLM)"}
    written = export_explanations(args.format, args.results, args.out, max_topics=args.max_topics,
                                  settings=settings)
    print(f"{len(written)} file(s) under {args.out}")
    return 0


@dataclass(kw_only=True)
class CheckTokensArgs:
    """Compare OpenAI's weight-based output tokens of GPT-2 neurons with our projection of them.

    For every related-tokens/weight-based/{layer}/{neuron}.json under SOURCE: the overlap of its
    output_positive (output_negative) tokens with our top (bottom) --top tokens of the same neuron
    in each mode, its chance level, and the median rank of the published tokens among ours (0 = our
    first). Writes OUT/tokens.csv and OUT/tokens.json (means with 95% bootstrap intervals).
    """

    source: str = positional("a weight-based file or a folder holding them", metavar="SOURCE")
    model: str = option("the model the tokens were published for (gpt2, gpt2-xl, a folder)", metavar="NAME")
    out: str = option("output folder", metavar="DIR")
    modes: str = option("projection modes, comma-separated", "hi-i,hi-c", metavar="LIST")
    top: int = option("tokens compared per list", 10, metavar="K")
    bootstrap: int = option("bootstrap resamples of the intervals", CompareParams.bootstrap, metavar="N")
    seed: int = option("bootstrap seed", 0)


def run_check_tokens(args: CheckTokensArgs) -> int:
    from superpose.explanations.tokens import check_tokens

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    result = check_tokens(args.source, args.model, args.out, modes=modes, top=args.top, bootstrap=args.bootstrap,
                          seed=args.seed)
    print(f"{result['neurons']} neuron(s) of {result['model']}, top {args.top} tokens")
    for key, entry in result["summary"].items():
        o, c, r = entry["overlap"], entry["chance_overlap"], entry["median_rank_pct"]
        print(f"{key}: overlap {o['mean']:.3f} [{o['lo']:.3f}, {o['hi']:.3f}] (chance {c['mean']:.4f}); "
              f"median rank of published tokens {r['mean']:.4f} of the vocabulary")
    print(f"table: {args.out}/tokens.csv")
    return 0


COMMANDS: list[Command] = [
    Command(("explanations", "import"), ImportArgs, run_import),
    Command(("explanations", "export"), ExportArgs, run_export),
    Command(("explanations", "check-tokens"), CheckTokensArgs, run_check_tokens),
]
