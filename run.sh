#!/usr/bin/env bash
# Set up and serve the dashboard on the bundled data: http://127.0.0.1:8050 (builds the store when missing).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -r requirements.txt
# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) every process
# would otherwise compile our modules again (~0.2 s of each `python -m etl` or server start).
.venv/bin/python -m compileall -q -j 0 app.py observatory etl pages >/dev/null
exec .venv/bin/python app.py "$@"
