"""A real browser for the /admin console: Debian's Chromium through its chromedriver, one per session.

Skipped only when chromedriver is missing outside CI; under CI (``CI`` set) a missing browser fails.
No browser is downloaded: ``.ci/run`` installs Debian's ``chromium`` and ``chromium-driver``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.store.engine import open_store
from tests.auxil.console import ConsoleBot, ServedConsole, seed

CHROMEDRIVER = os.environ.get("HOC_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("HOC_CHROMIUM", "/usr/bin/chromium")
#: Where each test leaves a screenshot of its page (README's come from here).
SCREENSHOTS = Path(os.environ.get("HOC_SCREENSHOTS") or Path(__file__).parent / "screenshots")
#: Chromium without the calls home that stall it where there is no network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def _browser_missing() -> str | None:
    for path in (CHROMEDRIVER, CHROMIUM):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def downloads() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hoc-downloads-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def driver(downloads: Path) -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="hoc-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(20)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConsoleBot, ServedConsole]]:
    """A seeded console served on 127.0.0.1 (SQLite file)."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('console') / 'hoc.sqlite3'}")
    console = ConsoleBot(store)
    seed(store, console.clock.now().date())
    served = ServedConsole(console.app()).start()
    try:
        yield console, served
    finally:
        served.stop()
        store.close()


@pytest.fixture
def fresh(driver: Any, site: tuple[ConsoleBot, ServedConsole]) -> Any:
    """The browser, signed out, on a blank page."""
    driver.delete_all_cookies()
    driver.get(site[1].base + "/admin/static/admin.css")
    driver.delete_all_cookies()
    return driver
