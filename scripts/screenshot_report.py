"""Build the report of a real mining run and screenshot its index and one neuron page for the README.

    .venv/bin/python scripts/screenshot_report.py --run OUT/smollm2-135m/hi-c [--records DIR]
        [--explanations FILE] [--compare FILE] [--neuron 3_1] [--out results]

The run folder is copied to a temporary folder first, so the run itself is never touched. Without
--neuron the page shown is the neuron whose best topic has the highest NPMI among those with
activation records (all neurons when no records are given). Pages are captured whole up to a
height (the index's table and a neuron's records are long). Needs Debian's chromium and
chromium-driver and the selenium package.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from superpose.report import build_report
from superpose.report.browser import chromium, console_errors, open_page, screenshot
from superpose.report.data import collect

WIDTH, INDEX_HEIGHT, NEURON_HEIGHT = 1280, 1400, 2200  # pixels; taller pages are cut at the bottom


def pick_neuron(run: Path, records: str | None, explanations: str | None) -> str:
    """``L{layer}_N{neuron}`` of the neuron with the best topic (preferring those with records)."""
    data = collect(run, records=records, explanations=explanations)
    views = [v for v in data.neurons if v.best_npmi() is not None]
    with_records = [v for v in views if v.records]
    best = max(with_records or views, key=lambda v: v.best_npmi())
    return best.slug


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="mining run folder {out}/{model}/{mode}")
    parser.add_argument("--records", help="activation-records folder of the same model")
    parser.add_argument("--explanations", help="explanations JSON lines")
    parser.add_argument("--compare", help="compare.csv of `superpose compare`")
    parser.add_argument("--neuron", help="neuron page to show, LAYER_NEURON (default: the best topic)")
    parser.add_argument("--out", default="results", help="folder for report_index.png and report_neuron.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="superpose-report-") as tmp:
        source = Path(args.run).resolve()
        run = Path(tmp) / source.parent.name / source.name  # keeps {model}/{mode} in the paths shown
        shutil.copytree(source, run)
        slug = ("L{}_N{}".format(*args.neuron.split("_")) if args.neuron
                else pick_neuron(run, args.records, args.explanations))
        report = build_report(run, Path(tmp) / "report", explanations=args.explanations, records=args.records,
                              compare=args.compare)
        with chromium(WIDTH, 900) as driver:
            for page, name, height in ((report / "index.html", "report_index.png", INDEX_HEIGHT),
                                       (report / "neurons" / f"{slug}.html", "report_neuron.png", NEURON_HEIGHT)):
                driver.set_window_size(WIDTH, 900)
                open_page(driver, page)
                errors = console_errors(driver)
                if errors:
                    print(f"console errors on {page.name}: {errors}", file=sys.stderr)
                    return 1
                print(f"{screenshot(driver, out / name, max_height=height)} ({page.relative_to(report)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
