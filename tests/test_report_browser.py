"""The report in a real headless Chromium (Debian's chromium and chromium-driver, no network).

Pages load from file:// without console errors, figures load, the index table sorts and filters,
a neuron page shows its topic, and a ``<script>`` token is shown as text, never run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from superpose.report import build_report
from superpose.report.browser import CHROMIUM, chromium, console_errors, open_page, screenshot
from tests.report_helpers import FRUIT, PWNED, make_inputs

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                                reason=f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    inputs = make_inputs(folder)
    return build_report(inputs["results"], folder / "report", explanations=inputs["explanations"],
                        records=inputs["records"], compare=inputs["compare"])


@pytest.fixture(scope="module")
def driver():
    with chromium() as browser:
        yield browser


def _load(driver, path: Path) -> None:
    open_page(driver, path)
    assert driver.execute_script("return document.readyState") == "complete"
    assert console_errors(driver) == []
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)")
    assert broken == []


HEADERS = "Array.from(document.querySelectorAll('#neurons thead th'))"


def _column(driver, name: str) -> list[str]:
    index = driver.execute_script(f"return {HEADERS}.findIndex(th => th.textContent === arguments[0])", name)
    assert index >= 0, name
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#neurons tbody tr')).filter(r => !r.hidden)"
        ".map(r => r.cells[arguments[0]].textContent.trim())", index)


def _click_header(driver, name: str) -> str:
    header = driver.execute_script(f"return {HEADERS}.find(th => th.textContent === arguments[0])", name)
    header.find_element("css selector", "button").click()
    return header.get_attribute("aria-sort")


def test_index_loads_and_its_table_sorts_and_filters(driver, report):
    _load(driver, report / "index.html")
    assert _column(driver, "neuron") == ["0", "1", "2", "0", "1", "2", "7"]
    assert _click_header(driver, "neuron") == "ascending"
    assert _column(driver, "neuron") == ["0", "0", "1", "1", "2", "2", "7"]
    assert _click_header(driver, "best NPMI +") == "ascending"
    values = _column(driver, "best NPMI +")
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers) and len(numbers) == 3 and values[3:] == ["", "", "", ""]  # empty last
    assert _click_header(driver, "best NPMI +") == "descending"
    assert [float(v) for v in _column(driver, "best NPMI +") if v] == sorted(numbers, reverse=True)
    assert _column(driver, "best NPMI +")[0] == "0.420"
    driver.find_element("id", "filter").send_keys("banana")
    assert _column(driver, "neuron") == ["1"]
    assert driver.find_element("id", "shown").text == "1"
    assert console_errors(driver) == []


def test_neuron_page_shows_its_topic_and_escapes_scripts(driver, report):
    _load(driver, report / "neurons" / "L0_N1.html")
    text = driver.find_element("tag name", "body").text
    assert " ".join(FRUIT) in text and "fruit names" in text
    _load(driver, report / "neurons" / "L0_N0.html")
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    text = driver.find_element("tag name", "body").text
    assert PWNED in text  # shown as text, in the explanation and as a record token
    tokens = driver.find_elements("css selector", ".record .tok")
    assert len(tokens) == 16 and PWNED in [t.text for t in tokens]
    assert driver.find_elements("css selector", "script:not([src])") == []


def test_screenshots_of_both_pages(driver, report, tmp_path):
    for page, name in ((report / "index.html", "index.png"), (report / "neurons" / "L0_N1.html", "neuron.png")):
        _load(driver, page)
        data = screenshot(driver, tmp_path / name).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
