"""Gunicorn settings for the Torale web process.

Gunicorn reads this file by itself when it starts in the repository root (the Docker image's
working directory too); command-line flags override it. `bench/api.py` measures the choices:
on 2 cores a request costs a few milliseconds of CPU and waits on PostgreSQL and Redis for
about a third of its time, so one process per core with a few threads each keeps both cores
busy. More processes than cores only added context switches; sync workers did worse at 32
connections (no keep-alive, no overlap of the database waits).
"""

import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
# Clients and proxies that reuse connections skip a TCP handshake per request.
keepalive = 5
graceful_timeout = 10
# Gunicorn 27 opens a control socket under $HOME by default; the app user's home is
# read-only in the image, and two servers on one machine would share the path.
control_socket_disable = True
