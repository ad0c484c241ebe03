"""Headless Debian Chromium driven by selenium, and what the dashboard tests read from it: the DOM, the
browser's console log and its network log (every request the page made)."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "dashboard"
TIME_ZONE = "Europe/Paris"  # not the machine's: the page must draw times in the browser's zone


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (it is in the dev extra: pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} is missing: apt-get install chromium chromium-driver (CI's .ci/run does)"
    return None


class Browser:
    """One Chromium tab on the dashboard of `base_url`."""

    def __init__(self, base_url: str, downloads: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--lang=en-US",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": TIME_ZONE})
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        self.base_url = base_url
        self.downloads = downloads
        self.requested: list[str] = []

    def open(self, hash_path: str = "") -> None:
        self.driver.get(f"{self.base_url}/{hash_path}")

    def sign_in(self, key: str, hash_path: str = "#/overview") -> None:
        """A fresh load of the page with no key stored, then the sign-in form."""
        self.driver.get(f"{self.base_url}/dashboard/favicon.svg")  # same origin, outside the app
        self.driver.execute_script("sessionStorage.clear()")
        self.open(hash_path)
        self.type("#api-key", key)
        self.click("main[data-view=sign-in] button[type=submit]")

    def find(self, css: str) -> Any:
        return self.wait(lambda: self.driver.find_element("css selector", css), f"no {css}")

    def find_all(self, css: str) -> list[Any]:
        return self.driver.find_elements("css selector", css)

    def click(self, css: str) -> None:
        self.find(css).click()

    def choose(self, css: str, value: str) -> None:
        """Picks an option of a <select>, as a person would."""
        options = self.find(css).find_elements("css selector", "option")
        matching = [o for o in options if o.get_property("value") == value]
        assert matching, f"{css} has no option {value!r}"
        matching[0].click()

    def type(self, css: str, text: str, *, clear: bool = True) -> None:
        element = self.find(css)
        if clear:
            element.clear()
        element.send_keys(text)

    def wait(self, probe: Callable[[], Any], what: str, timeout: float = 10) -> Any:
        """probe()'s first truthy answer; its exceptions count as 'not yet'."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                answer = probe()
                if answer:
                    return answer
            except Exception as error:
                last = error
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s: {what} ({last!r})")

    def attribute(self, css: str, name: str) -> str:
        return self.find(css).get_attribute(name)

    def text(self, css: str) -> str:
        return self.find(css).get_attribute("textContent").strip()

    def idle(self) -> None:
        """Until the view's first load is done (no loading state, not reloading)."""
        self.wait(lambda: not self.find_all(".state.loading, [aria-busy=true]"), "the view to load")

    def table(self, name: str, column: str, attribute: str = "data-value") -> list[str]:
        cells = self.find_all(f"table[data-table='{name}'] tbody td[data-col='{column}']")
        return [
            c.get_attribute(attribute) if attribute != "text" else c.get_attribute("textContent").strip() for c in cells
        ]

    def stat(self, name: str) -> str:
        return self.attribute(f"[data-stat='{name}']", "data-value")

    def hash(self) -> str:
        return self.driver.execute_script("return location.hash")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def console_errors(self) -> list[dict[str, Any]]:
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def drain_network(self) -> list[str]:
        """Every URL the page asked for since the last call (requests and WebSockets), from Chromium's log."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            elif message["method"] == "Network.webSocketCreated":
                self.requested.append(message["params"]["url"])
        urls, self.requested = self.requested, []
        return urls

    def quit(self) -> None:
        self.driver.quit()
