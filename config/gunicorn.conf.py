"""Gunicorn, the production app server: https://docs.gunicorn.org/en/stable/settings.html

Run as `gunicorn --config config/gunicorn.conf.py config.wsgi` (what `make serve` does). Any other
setting can be given in GUNICORN_CMD_ARGS, e.g. GUNICORN_CMD_ARGS="--timeout 60".
"""

import os

# Loopback unless told otherwise: a proxy or load balancer on the machine forwards to it.
# BIND takes any address Gunicorn knows, e.g. 0.0.0.0:8000 or unix:/run/puente.sock.
bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"

# Synchronous workers, one request at a time each: the work is database-bound and short.
# About two per CPU core; each worker holds one database connection.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# A worker that has not answered in this many seconds is restarted; keep it below the load
# balancer's timeout, so the balancer sees an error rather than a hang.
timeout = 30
# On a restart or deploy (SIGTERM, SIGHUP), requests in flight get this long to finish.
graceful_timeout = 30
# Each worker is replaced after about a thousand requests, at staggered times, so that slow
# memory growth cannot accumulate and the workers never restart together.
max_requests = 1000
max_requests_jitter = 100

# The workers' heartbeat files in memory: a disk-backed /tmp can stall them into false timeouts.
# https://docs.gunicorn.org/en/stable/faq.html#how-do-i-avoid-gunicorn-excessively-blocking-in-os-fchmod
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Which proxies may say that a request came over HTTPS (X-Forwarded-Proto); the same variable
# Gunicorn reads by default, named here so that it is documented in one place.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# No access log: Django logs every request, with its request ID (LOGGING in config/settings).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Signals (TERM, HUP, TTIN, TTOU) manage the server; the per-user control socket of Gunicorn 25+
# would be shared, and fought over, by every server that one user runs on a machine.
control_socket_disable = True
