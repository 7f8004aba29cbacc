"""`dash_duo` for a whole test session: one headless Chromium and one threaded server per process (each xdist
worker has its own), reset between tests.

Dash's own `dash_duo` starts a new Chromium (a fresh profile: every script of the app downloaded and compiled
again) and a new server thread for each test. Here the process's tests share them; before each test the browser
is put back as a new one would be: one tab on `about:blank`, the first window size, no cookies nor storage for
the app's origin, downloads into the test's own folder, the console log drained. The HTTP cache is kept, and so
are the scripts the reused renderer compiled (`conftest.pytest_setup_options`): that is the time saved. A browser
that no longer answers is replaced by a new one.
"""
from __future__ import annotations

from pathlib import Path

from dash.testing.application_runners import ThreadedRunner
from dash.testing.composite import DashComposite
from selenium.common.exceptions import WebDriverException

STORAGE = "cookies,local_storage,session_storage,indexeddb,websql,service_workers,cache_storage"


class SharedDashComposite(DashComposite):
    """A DashComposite whose `start_server` reuses the session's server when it already serves that app."""

    def __init__(self, server: ThreadedRunner, download_path: str, **kwargs):
        super().__init__(server, download_path=download_path, **kwargs)
        self._first_size = self.driver.get_window_size()
        self._default_timeout = self.wait_timeout

    def start_server(self, app, navigate=True, **kwargs):
        running = self.server.started and getattr(self.server, "_app", None) is app and not kwargs
        if not running:
            if self.server.started:
                self.server.stop()
            self.server(app, **kwargs)
        if navigate:
            self.server_url = self.server.url  # as dash_duo: opens the app's root and waits for it

    def reset(self, download_path: Path) -> None:
        """The state a new browser would have, for the next test."""
        driver = self.driver
        handles = driver.window_handles
        for handle in handles[1:]:
            driver.switch_to.window(handle)
            driver.close()
        driver.switch_to.window(handles[0])
        driver.get("about:blank")
        if self.server.started:
            driver.execute_cdp_cmd("Storage.clearDataForOrigin",
                                   {"origin": self.server.url.rstrip("/"), "storageTypes": STORAGE})
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        driver.set_window_size(self._first_size["width"], self._first_size["height"])
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_path)})
        self._download_path = str(download_path)
        self.wait_timeout = self._default_timeout
        driver.get_log("browser")  # drained: `get_logs` shows this test's entries only
        self._last_ts = 0
        self._url = ""

    def alive(self) -> bool:
        try:
            self.driver.window_handles  # noqa: B018 (a round trip to chromedriver)
            return True
        except WebDriverException:
            return False


class SharedBrowser:
    """The session's browser and server: made on first use, replaced when the browser stopped answering."""

    def __init__(self, options: dict):
        self.options = options
        self.server = ThreadedRunner()
        self.browser: SharedDashComposite | None = None

    def ready(self, download_path: Path) -> SharedDashComposite:
        if self.browser is not None:
            try:
                self.browser.reset(download_path)
                return self.browser
            except WebDriverException:
                self.quit_browser()
        self.browser = SharedDashComposite(self.server, download_path=str(download_path), **self.options)
        self.browser.reset(download_path)
        return self.browser

    def quit_browser(self) -> None:
        if self.browser is not None:
            self.browser.__exit__(None, None, None)  # Browser.__exit__ quits the driver, logging a failure
            self.browser = None

    def close(self) -> None:
        self.quit_browser()
        if self.server.started:
            self.server.stop()
