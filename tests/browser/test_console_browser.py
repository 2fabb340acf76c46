"""The /admin console in Chromium: sign-in from a chat link, refused links, progress, CSV, keyboard, axe, languages."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_core_python.base import AXE_SCRIPT
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.auxil.console import SECRET_USER, ConsoleBot, ServedConsole
from tests.browser.conftest import SCREENSHOTS

Site = tuple[ConsoleBot, ServedConsole]


def shot(driver: Any, name: str) -> Path:
    """Keep a full-page screenshot of what the browser shows."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(700, min(int(height) + 40, 4000)))
    assert driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    return path


def axe(driver: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page (WCAG 2.1 A/AA and best practices)."""
    driver.execute_script(AXE_SCRIPT)
    driver.set_script_timeout(30)
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(done, e => done({error: String(e)}));"
    )
    assert "error" not in results, results
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def _new_page_loaded(driver: Any) -> bool:
    return bool(driver.execute_script("return !window.hocOldPage && document.readyState === 'complete'"))


def navigates(driver: Any, action: Callable[[], object]) -> None:
    """Run ``action`` and wait until another document replaced this one and finished loading.

    The old document is marked with a script property the new one does not have. Waiting for the
    old ``<html>`` to go stale instead races chromedriver: while the old document is being torn
    down it can answer "node does not belong to the document" (an unknown error, not a stale one).
    """
    driver.execute_script("window.hocOldPage = true")
    action()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(_new_page_loaded)


def follow(driver: Any, element: Any) -> None:
    """Click ``element`` and wait until the next page replaced this one."""
    navigates(driver, element.click)


def sign_in(driver: Any, site: Site) -> None:
    console, served = site
    link, _ = console.link()
    driver.get(served.base + link)
    follow(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    assert driver.current_url.endswith("/admin/progress"), driver.page_source[-800:]


def test_sign_in_from_a_chat_link(fresh: Any, site: Site) -> None:
    console, served = site
    answer = console.chat("admin")  # the real chat command, as an admin types it
    link = answer[answer.index("/admin/signin?token=") :].split()[0]
    fresh.get(served.base + "/admin/")
    shot(fresh, "landing")
    assert axe(fresh) == []
    fresh.get(served.base + link)
    shot(fresh, "signin")
    assert axe(fresh) == []
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    assert fresh.current_url == served.base + "/admin/progress"
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Progress of the programme"
    cookie = fresh.get_cookie("hoc_admin")
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    assert fresh.execute_script("return document.cookie") == ""  # HttpOnly: not readable by scripts


def test_expired_and_reused_links_are_refused(fresh: Any, site: Site) -> None:
    console, served = site
    link, _ = console.link()
    fresh.get(served.base + link)
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    fresh.delete_all_cookies()
    fresh.get(served.base + link)
    assert fresh.find_element(By.TAG_NAME, "h1").text == "This sign-in link was already used."
    shot(fresh, "link-used")
    assert axe(fresh) == []
    late, _ = console.link()
    console.clock.advance(minutes=11)
    fresh.get(served.base + late)
    assert fresh.find_element(By.TAG_NAME, "h1").text == "This sign-in link has expired."
    fresh.get(served.base + "/admin/progress")
    assert fresh.current_url == served.base + "/admin/"


def test_progress_with_filters(fresh: Any, site: Site) -> None:
    sign_in(fresh, site)
    page = fresh.page_source
    assert SECRET_USER not in page
    assert len(fresh.find_elements(By.CSS_SELECTOR, "svg[role=img]")) == 5
    shot(fresh, "progress")
    assert axe(fresh) == []
    Select(fresh.find_element(By.ID, "f-platform")).select_by_value("slack")
    Select(fresh.find_element(By.ID, "f-language")).select_by_value("fr")
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, ".filters button[type=submit]"))
    assert "platform=slack" in fresh.current_url
    assert "language=fr" in fresh.current_url
    assert fresh.find_element(By.CSS_SELECTOR, "main > p").text.startswith("2 coordinators")
    shot(fresh, "progress-filtered")


def test_csv_download(fresh: Any, site: Site, downloads: Path) -> None:
    sign_in(fresh, site)
    fresh.find_element(By.PARTIAL_LINK_TEXT, "CSV").click()
    deadline = time.monotonic() + 15
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = [p for p in downloads.glob("hoc-progress-*.csv")]
        if files:
            break
        time.sleep(0.1)
    assert files, "no CSV downloaded"
    text = files[0].read_text(encoding="utf-8-sig")
    assert "Steps of the plan done" in text
    assert SECRET_USER not in text


def test_keyboard_only(fresh: Any, site: Site) -> None:
    sign_in(fresh, site)
    body = fresh.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    first = fresh.switch_to.active_element
    assert first.get_attribute("class") == "skip"
    assert first.is_displayed()
    assert first.value_of_css_property("outline-style") != "none"
    first.send_keys(Keys.ENTER)
    assert fresh.execute_script("return location.hash") == "#main"
    fresh.get(fresh.current_url.split("#")[0])
    seen = []
    for _ in range(40):
        fresh.switch_to.active_element.send_keys(Keys.TAB)
        element = fresh.switch_to.active_element
        if element.tag_name == "body":
            break
        assert element.value_of_css_property("outline-style") != "none", element.get_attribute("outerHTML")[:80]
        seen.append(element.get_attribute("id") or element.text)
    for wanted in ("Progress", "Review", "Sign out", "Français", "f-platform", "f-language", "Apply"):
        assert wanted in seen, seen
    assert seen.index("Progress") < seen.index("f-platform") < seen.index("Apply")


def test_language_switch_french_and_arabic(fresh: Any, site: Site) -> None:
    sign_in(fresh, site)
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "nav.languages a[hreflang=fr]"))
    html = fresh.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == "fr"
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Avancement du programme"
    shot(fresh, "progress-fr")
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "nav.languages a[hreflang=ar]"))
    html = fresh.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("dir") == "rtl"
    assert fresh.find_element(By.TAG_NAME, "h1").text == "تقدم البرنامج"
    shot(fresh, "progress-ar")
    assert axe(fresh) == []
    fresh.get(site[1].base + "/admin/review")  # the choice is kept in the session
    assert fresh.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ar"


def test_review_page_then_sign_out(fresh: Any, site: Site) -> None:
    sign_in(fresh, site)
    follow(fresh, fresh.find_element(By.LINK_TEXT, "Review"))
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Review of questions"
    shot(fresh, "review")
    assert axe(fresh) == []
    follow(fresh, fresh.find_element(By.CSS_SELECTOR, "form.signout button"))
    assert fresh.current_url == site[1].base + "/admin/"
    assert fresh.get_cookie("hoc_admin") is None
    fresh.get(site[1].base + "/admin/progress")
    assert fresh.current_url == site[1].base + "/admin/"


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_landing_in_other_languages_passes_axe(fresh: Any, site: Site, lang: str) -> None:
    fresh.get(site[1].base + f"/admin/?lang={lang}")
    assert fresh.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert axe(fresh) == []


def test_axe_would_report_a_serious_violation(fresh: Any, site: Site) -> None:
    fresh.get(site[1].base + "/admin/")
    fresh.execute_script(
        "const b = document.createElement('button'); document.querySelector('main').appendChild(b);"
        "const i = document.createElement('img'); i.src = 'data:,'; document.querySelector('main').appendChild(i);"
    )
    assert {v["id"] for v in axe(fresh)} >= {"button-name", "image-alt"}
