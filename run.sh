#!/usr/bin/env bash
# Set up and serve the dashboard on the bundled data: http://127.0.0.1:8050 (builds the store when missing).
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q -r requirements.txt
exec .venv/bin/python app.py "$@"
