"""Write a PNG of every dashboard page with headless Chromium: docs/screenshots/<page>.png (and a phone view).

Starts the app on a free loopback port, takes the screenshots with Debian's chromium (Dash renders in the
browser, hence the virtual-time budget), then stops the app.

    .venv/bin/python scripts/screenshots.py
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
PAGES = {"accueil": "/", "recrutement": "/recrutement", "ressources-humaines": "/ressources-humaines",
         "formation": "/formation", "filieres": "/filieres", "territoires": "/territoires",
         "mon-etablissement": "/mon-etablissement", "donnees": "/donnees", "methodologie": "/methodologie"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=20000",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]


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
        shots = [(name, path, "1400,1900") for name, path in PAGES.items()]
        shots.append(("telephone-recrutement", "/recrutement", "390,1600"))
        for name, path, size in shots:
            with tempfile.TemporaryDirectory() as profile:
                subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
                                f"--screenshot={OUT / (name + '.png')}", base + path],
                               check=True, capture_output=True, timeout=120)
            print(f"wrote docs/screenshots/{name}.png")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
