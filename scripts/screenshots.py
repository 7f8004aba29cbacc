"""Write a PNG of every dashboard page with headless Chromium: docs/screenshots/<page>.png (and a phone view).

Starts the app on a free loopback port, takes the screenshots with Debian's chromium driven by chromedriver (a
real window, so responsive charts lay out as they do on a desk or a phone), then stops the app.

    .venv/bin/python scripts/screenshots.py
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PAGES = {"accueil": "/", "recrutement": "/recrutement", "ressources-humaines": "/ressources-humaines",
         "formation": "/formation", "filieres": "/filieres", "territoires": "/territoires",
         "mon-etablissement": "/mon-etablissement", "donnees": "/donnees", "methodologie": "/methodologie"}


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("chromium is missing: apt-get install chromium")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/", timeout=5).read()
                break
            except OSError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        shots = [(name, path, 1400) for name, path in PAGES.items()]
        shots.append(("telephone-recrutement", "/recrutement", 390))
        shots.append(("telephone-territoires", "/territoires", 390))
        driver = _driver(browser)
        try:
            for name, path, width in shots:
                driver.set_window_size(width, 900)
                driver.get(base + path)
                _settle(driver)
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(width, min(height, 4000))  # the whole page, as a reader scrolls it
                _settle(driver)
                driver.save_screenshot(str(OUT / f"{name}.png"))
                print(f"wrote docs/screenshots/{name}.png")
        finally:
            driver.quit()
    finally:
        server.terminate()
        server.wait(timeout=10)


def _driver(browser: str):
    """Chromium driven by chromedriver (a real window size, so responsive charts lay out as on a phone)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))


def _settle(driver, quiet: float = 1.5, timeout: float = 30) -> None:
    """Wait until Dash has no callback in flight and the charts are drawn."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = driver.execute_script(
            "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null || "
            "document.readyState !== 'complete' || !document.querySelector('#contenu')")
        if not busy:
            break
        time.sleep(0.3)
    time.sleep(quiet)


if __name__ == "__main__":
    main()
