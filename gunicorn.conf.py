"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app` behind nginx.

Every value comes from the environment (systemd EnvironmentFile); never edit this file.
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("PARINDEX_BIND", "127.0.0.1:8000")

# gthread: a slow request ties up one thread, not the worker; the main loop keeps
# heartbeating, so `timeout` no longer kills a worker that is serving a long upload.
worker_class = "gthread"
# Sized for 2 cores (issue #16, measured with the criteria page on PostgreSQL): the
# page is CPU-bound Python, so processes (one core each, the GIL) set the throughput
# and the CPU per request was the same within noise for 3 or 4 workers with 4 or 8
# threads. Threads are kept for what does hold one: nginx buffers upload bodies and
# pages, but the dossier ZIP download and the verify upload stream, and a client
# that reaches gunicorn directly holds a thread for its whole body (with 16 threads
# per instance, 50 slow uploads starved the pages; with 24 they did not).
workers = _int("PARINDEX_WORKERS", min(4, multiprocessing.cpu_count() + 1))
threads = _int("PARINDEX_THREADS", 8)

# nginx buffers request bodies (proxy_request_buffering on), so a 100 MB upload reaches
# gunicorn at loopback speed; these bound the rest (storage writes, the dossier ZIP).
timeout = _int("PARINDEX_WORKER_TIMEOUT", 120)
graceful_timeout = _int("PARINDEX_GRACEFUL_TIMEOUT", 30)
keepalive = _int("PARINDEX_KEEPALIVE", 5)

# Recycle workers now and then so a slow leak cannot grow for months.
max_requests = _int("PARINDEX_MAX_REQUESTS", 5000)
max_requests_jitter = _int("PARINDEX_MAX_REQUESTS_JITTER", 500)

# Heartbeat files in RAM: a busy disk must not make the arbiter think workers hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# X-Forwarded-* are trusted by the app itself (ProxyFix, PARINDEX_TRUSTED_PROXIES), not
# by gunicorn; only the local proxy may set the scheme.
forwarded_allow_ips = os.environ.get("PARINDEX_FORWARDED_ALLOW_IPS", "127.0.0.1")

limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("PARINDEX_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("PARINDEX_LOG_LEVEL", "info")
# Each worker builds its own app: database pools and the Redis client are never shared
# across a fork.
preload_app = False


def post_worker_init(worker: object) -> None:
    """Before a worker takes its first request: pay the imports that the first PDF
    upload (pyHanko's signature check, seconds) and the first dossier (python-docx,
    openpyxl) would otherwise add to that user's wait."""
    import docx  # noqa: F401
    import openpyxl  # noqa: F401
    import pyhanko.pdf_utils.reader  # noqa: F401
    import pyhanko.sign.validation  # noqa: F401
    import pyhanko_certvalidator  # noqa: F401
