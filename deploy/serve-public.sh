#!/usr/bin/env bash
# `make serve-public`: gunicorn (deploy/gunicorn.conf.py) on 127.0.0.1:$PORT behind nginx on $LISTEN, both in
# the foreground of this script; Ctrl-C (or the end of either) stops both, by their PIDs.
set -euo pipefail
cd "$(dirname "$0")/.."
LISTEN="${LISTEN:-127.0.0.1:8080}"
PORT="${PORT:-8050}"
RUN_DIR="${RUN_DIR:-$PWD/.run/nginx}"
.venv/bin/python deploy/render_nginx.py --listen "$LISTEN" --upstream "127.0.0.1:$PORT" --prefix "$RUN_DIR" >/dev/null
nginx -t -q -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf"
OBSERVATORY_TRUSTED_PROXIES="${OBSERVATORY_TRUSTED_PROXIES:-1}" HOST=127.0.0.1 PORT="$PORT" \
  .venv/bin/gunicorn -c deploy/gunicorn.conf.py app:server &  # nginx in front: count clients, not nginx
GUNICORN=$!
nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -g "daemon off;" &
NGINX=$!
stop() { kill "$GUNICORN" "$NGINX" 2>/dev/null || true; wait || true; }
trap stop EXIT
trap 'exit 0' INT TERM
echo "http://$LISTEN → gunicorn 127.0.0.1:$PORT (nginx pid $NGINX, gunicorn pid $GUNICORN)"
wait -n "$GUNICORN" "$NGINX"
