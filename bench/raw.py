"""The raw WSGI baseline: the trivial view's answer from a bare callable, with no framework.

gunicorn --config config/gunicorn.conf.py bench.raw
"""

BODY = b'{"status": "ok", "service": "puente"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
