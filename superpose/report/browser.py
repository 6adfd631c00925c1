"""Open report pages in a real headless Chromium, for the browser tests and the README screenshots.

Uses the distribution's ``chromium`` and ``chromedriver`` (Debian: ``apt-get install chromium
chromium-driver``) through Selenium, with every network feature of the browser turned off; the
pages come from ``file://`` URLs. Selenium is a development dependency, imported only here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError

CHROMIUM = os.environ.get("SUPERPOSE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SUPERPOSE_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
         "--hide-scrollbars", "--force-device-scale-factor=1")


def available() -> str | None:
    """``None`` when Chromium, its driver and Selenium are all installed, else what is missing."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).is_file():
            return f"{path} is missing (Debian: apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A headless Chromium WebDriver that records the console (``driver.get_log("browser")``)."""
    missing = available()
    if missing is not None:
        raise SuperposeError(f"cannot start a browser: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="superpose-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """Console errors and uncaught exceptions since the last call (the log is drained by reading)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def open_page(driver: Any, path: str | Path) -> None:
    """Open a page from disk; a ``#fragment`` after the file name is kept (``neuron.html#L3_N5``)."""
    file, _, fragment = str(path).partition("#")
    driver.get(Path(file).resolve().as_uri() + (f"#{fragment}" if fragment else ""))


def screenshot(driver: Any, path: str | Path, max_height: int | None = None) -> Path:
    """A PNG of the page; with ``max_height``, the window first grows to the page (up to that height)."""
    if max_height is not None:
        width = driver.get_window_size()["width"]
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(int(height), max_height))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not driver.save_screenshot(str(target)):
        raise SuperposeError(f"the browser could not write the screenshot {target}")
    return target
