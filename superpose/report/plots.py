"""The report's figures, as SVG files: matplotlib without pyplot (no global state, no display).

SVGs are written without a date and with a fixed id salt, so the same inputs give the same bytes
and a report can be diffed between runs.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from superpose.report.data import ReportData
from superpose.report.sections import twobytwo

MINED, RANDOM = "#d9480f", "#868e96"
POS, NEG = "#d9480f", "#1c7ed6"
_RC = {"svg.hashsalt": "superpose-report", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}


def _save(fig: Figure, path: Path) -> Path:
    with matplotlib.rc_context({"svg.hashsalt": _RC["svg.hashsalt"]}):  # fixed element ids
        fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return path


def _figure(width: float = 6.4, height: float = 3.2) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.add_subplot()
    return fig


def _empty(fig: Figure, text: str) -> None:
    ax = fig.axes[0]
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#495057")
    ax.set_xticks([])
    ax.set_yticks([])


def npmi_by_layer(data: ReportData, path: Path) -> Path:
    """Box plots of topic NPMI per layer, mined beside random: does mining beat chance?"""
    fig = _figure()
    ax = fig.axes[0]
    layers = sorted(set(data.mined_scores) | set(data.random_scores))
    if not layers:
        _empty(fig, "no topics in the run")
        return _save(fig, path)
    for offset, scores, color, label in ((-0.2, data.mined_scores, MINED, "mined"),
                                         (0.2, data.random_scores, RANDOM, "random baseline")):
        shown = [(i, scores[layer]) for i, layer in enumerate(layers) if len(scores.get(layer, ()))]
        if not shown:
            continue
        parts = ax.boxplot([s for _, s in shown], positions=[i + offset for i, _ in shown], widths=0.35,
                           patch_artist=True, manage_ticks=False, flierprops={"markersize": 2},
                           medianprops={"color": "#212529"})
        for box in parts["boxes"]:
            box.set(facecolor=color, alpha=0.6, edgecolor=color)
        ax.plot([], [], color=color, linewidth=6, alpha=0.6, label=label)
    ax.set_xticks(range(len(layers)), [str(layer) for layer in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("topic NPMI")
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def topics_per_neuron(data: ReportData, path: Path) -> Path:
    """Mean topics per neuron (both polarities) per layer, mined against random pools."""
    fig = _figure()
    ax = fig.axes[0]
    layers = sorted(set(data.topics_per_neuron["mined"]) | set(data.topics_per_neuron["random"]))
    if not layers:
        _empty(fig, "no mined neurons")
        return _save(fig, path)
    x = np.arange(len(layers))
    for offset, name, color, label in ((-0.2, "mined", MINED, "mined"), (0.2, "random", RANDOM, "random baseline")):
        counts = data.topics_per_neuron[name]
        means = [float(np.mean(counts[layer])) if len(counts.get(layer, ())) else np.nan for layer in layers]
        ax.bar(x + offset, means, width=0.4, color=color, alpha=0.8, label=label)
    ax.set_xticks(x, [str(layer) for layer in layers])
    ax.set_xlabel("layer")
    ax.set_ylabel("topics per neuron (mean)")
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def topic_vs_llm(data: ReportData, path: Path) -> tuple[Path, str]:
    """Each neuron's topic score against its LLM explanation's score; returns the path and the y label.

    The topic score is the compare table's ``topic_score`` where that table is given (topics
    simulated like an explanation), else the neuron's best topic NPMI.
    """
    use_compare = "topic_score" in data.compare_columns
    ylabel = "topic score (compare table, best topic)" if use_compare else "best topic NPMI"
    fig = _figure(4.8, 3.6)
    ax = fig.axes[0]
    from superpose.report.inputs import parse_number

    points = []
    score = data.topics["score"].to_numpy()
    for (layer, neuron), item in sorted(data.explanations.items()):
        row = data.units.index(layer, neuron)
        llm = item.score
        if use_compare and data.compare is not None:
            values = [parse_number(r.get("topic_score")) for r in data.compare.rows.get((layer, neuron), [])]
            values = [v for v in values if v is not None]
            topic = max(values) if values else None
        elif row is not None:
            firsts = [int(f) for f in data.units.first_topic[row] if f >= 0]
            topic = max(float(score[f]) for f in firsts) if firsts else None
        else:
            topic = None
        if llm is not None and topic is not None:
            points.append((llm, topic, layer))
    if not points:
        _empty(fig, "no neuron has both a scored LLM explanation\nand a topic")
        return _save(fig, path), ylabel
    xs, ys, layers = (np.array(v) for v in zip(*points, strict=True))
    scatter = ax.scatter(xs, ys, c=layers, cmap="viridis", s=14)
    if len(set(layers.tolist())) > 1:
        fig.colorbar(scatter, ax=ax, label="layer")
    ax.set_xlabel("LLM explanation score (correlation)")
    ax.set_ylabel(ylabel)
    return _save(fig, path), ylabel


def layer_npmi(data: ReportData, layer: int, path: Path) -> Path:
    """Histogram of one layer's topic NPMI, mined against random: the context of a neuron's topics."""
    fig = _figure(4.8, 2.6)
    ax = fig.axes[0]
    mined = np.asarray(data.mined_scores.get(layer, []), float)
    random = np.asarray(data.random_scores.get(layer, []), float)
    if not len(mined) and not len(random):
        _empty(fig, f"no topics in layer {layer}")
        return _save(fig, path)
    both = np.concatenate([mined, random])
    bins = np.linspace(both.min(), both.max() + 1e-9, 25)
    for scores, color, label in ((mined, MINED, f"mined ({len(mined)})"), (random, RANDOM, f"random ({len(random)})")):
        if len(scores):
            ax.hist(scores, bins=bins, color=color, alpha=0.55, label=label, density=True)
    ax.set_xlabel("topic NPMI")
    ax.set_ylabel("density")
    ax.set_title(f"layer {layer}", fontsize=9)
    ax.legend(frameon=False, fontsize=8)
    return _save(fig, path)


def write_plots(data: ReportData, assets: Path) -> dict[str, str]:
    """Every figure into ``assets`` (the LLM one only with explanations).

    Returns figure names (``npmi``, ``topics``, ``llm``, ``layer_3``, ...) to file names.
    """
    with matplotlib.rc_context(_RC):
        files = {"npmi": npmi_by_layer(data, assets / "npmi_by_layer.svg").name,
                 "topics": topics_per_neuron(data, assets / "topics_per_neuron.svg").name}
        if "explanations" in data.inputs:
            files["llm"] = topic_vs_llm(data, assets / "topic_vs_llm.svg")[0].name
        files.update(twobytwo.write_figure(data, assets))
        for layer in sorted(set(data.units.layer.tolist())):
            files[f"layer_{layer}"] = layer_npmi(data, layer, assets / f"layer_{layer}_npmi.svg").name
    return files
