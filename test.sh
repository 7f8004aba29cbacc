#!/usr/bin/env bash
# Set up and run the whole test suite from an empty machine (Debian, Python 3.11).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium chromium-driver fonts-liberation >/dev/null
fi
# PostgreSQL binaries for the tests' throw-away cluster (the test session starts and stops it itself).
if [ "${OBSERVATORY_TEST_PG:-1}" != 0 ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null
fi
# Debian's nginx for the reverse-proxy tests (tests/test_public_proxy.py starts its own, unprivileged, per run).
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nginx >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -r requirements.txt
# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) every process
# would otherwise compile our modules again (~0.2 s of each `python -m etl` or server start).
.venv/bin/python -m compileall -q -j 0 app.py observatory etl pages >/dev/null
.venv/bin/ruff check .
set +e
# Two workers (pytest-xdist), one test file each at a time: a file's module fixtures (its browser, its stores) are
# made once. TEST_WORKERS=0 runs in this process alone.
.venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
code=$?
set -e
[ "$code" -eq 5 ] && { echo "no tests collected" >&2; exit 1; }
exit "$code"
