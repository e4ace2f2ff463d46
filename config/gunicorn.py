"""gunicorn settings: `gunicorn config.wsgi -c config/gunicorn.py`.

Each value can be overridden by the environment variable named beside it.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Django views are mostly waiting on the database: two processes per core, each with a
# few threads, keeps both cores busy without one slow request holding a whole worker.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# No recycling of workers by default: a gthread worker that restarts after max_requests
# resets the connections it had accepted but not yet served (gunicorn issue #3038), which
# `make load` saw as dropped requests once pages got fast. Set it only against a leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = 100
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
