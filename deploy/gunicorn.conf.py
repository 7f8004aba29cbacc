"""gunicorn settings for serving to the public behind nginx (`make serve-public`, deploy/nginx.conf.template).

Why threads: a sync worker is killed when one request outlives `timeout`, so a full CSV export (700 MB) was cut
after its `200`. A gthread worker's `timeout` watches only its main loop, which keeps beating while a thread
streams an export of any length; the other threads keep answering `/health` and the pages meanwhile. nginx in
front holds slow clients (headers, bodies, downloads), so a thread is never held by a slow socket.
Every setting can be overridden on the command line (`gunicorn -c deploy/gunicorn.conf.py --timeout 5 …`).
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WORKERS", "2"))  # one per core: the work is CPU (pandas, SQLite) under one GIL each
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "8"))  # requests in flight per worker (exports, pages, /health)
timeout = 30  # the worker's heartbeat, not a request budget: a streaming thread is never killed by it
graceful_timeout = 30
keepalive = 5  # nginx keeps its upstream connections open (`keepalive` in the template)
forwarded_allow_ips = "127.0.0.1"  # X-Forwarded-* trusted from the local nginx only
limit_request_line = 8190
control_socket_disable = True  # one per user by default (~/.gunicorn): two servers on one machine would share it
limit_request_fields = 100
limit_request_field_size = 8190
