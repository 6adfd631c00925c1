"""Build the report of a real mining run and screenshot its index and one neuron page for the README.

    .venv/bin/python benchmarks/screenshot_report.py --run OUT/smollm2-135m/hi-c [--records DIR]
        [--explanations FILE] [--compare FILE] [--neuron 3_1] [--out results] [--report DIR]

The run folder is copied to a temporary folder first, so the run itself is never touched (with
--report, that already built report is shown instead). Without --neuron the page shown is the
neuron with the best topic. Pages are captured in a 1400-pixel-wide window, whole up to a height.
Needs Debian's chromium and chromium-driver and the selenium package.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from superpose.mining.store import RunReader
from superpose.report import build_report
from superpose.report.browser import chromium, console_errors, open_page, screenshot

WIDTH, INDEX_HEIGHT, NEURON_HEIGHT = 1400, 1500, 2200  # pixels; taller pages are cut at the bottom


def pick_neuron(run: Path) -> str:
    """``L{layer}_N{neuron}`` of the unit with the best topic."""
    topics = RunReader(run).topics()
    best = int(topics["score"].to_numpy().argmax())
    return f"L{topics['layer'][best].as_py()}_N{topics['neuron'][best].as_py()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="mining run folder {out}/{model}/{mode}")
    parser.add_argument("--records", help="activation-records folder of the same model")
    parser.add_argument("--explanations", help="explanations JSON lines")
    parser.add_argument("--compare", help="compare.csv of `superpose compare`")
    parser.add_argument("--neuron", help="neuron page to show, LAYER_NEURON (default: the best topic)")
    parser.add_argument("--out", default="results", help="folder for report_index.png and report_neuron.png")
    parser.add_argument("--report", help="an already built report of --run to show")
    parser.add_argument("--search", help="also screenshot the index searching these words (report_search.png)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="superpose-report-") as tmp:
        source = Path(args.run).resolve()
        run = Path(tmp) / source.parent.name / source.name  # keeps {model}/{mode} in the paths shown
        shutil.copytree(source, run)
        slug = "L{}_N{}".format(*args.neuron.split("_")) if args.neuron else pick_neuron(run)
        report = Path(args.report) if args.report else build_report(
            run, Path(tmp) / "report", explanations=args.explanations, records=args.records, compare=args.compare)
        with chromium(WIDTH, 900) as driver:
            for page, name, height in ((f"{report}/index.html", "report_index.png", INDEX_HEIGHT),
                                       (f"{report}/neuron.html#{slug}", "report_neuron.png", NEURON_HEIGHT)):
                driver.set_window_size(WIDTH, 900)
                open_page(driver, page)
                for _ in range(500):  # the scripts draw the table or the neuron
                    if driver.execute_script("return window.SP && SP.timing && (SP.timing.best || "
                                             "SP.timing.rendered)"):
                        break
                    time.sleep(0.02)
                errors = console_errors(driver)
                if errors:
                    print(f"console errors on {page.name}: {errors}", file=sys.stderr)
                    return 1
                print(f"{screenshot(driver, out / name, max_height=height)} ({page})")
            if args.search:
                driver.set_window_size(WIDTH, 900)
                open_page(driver, f"{report}/index.html")
                driver.execute_script("SP.timing.filtered = null; document.getElementById('filter').value = "
                                      "arguments[0]; SP.apply();", args.search)
                for _ in range(1000):
                    if driver.execute_script("return SP.timing.filtered"):
                        break
                    time.sleep(0.02)
                print(screenshot(driver, out / "report_search.png", max_height=INDEX_HEIGHT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
