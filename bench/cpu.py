"""The CPU time of a request to each URL, through the app's WSGI application in this process.

No server, no network and no load generator: what one request costs the app itself, steadier on a
shared machine than requests per second, and what a change to a view or a middleware moves. Run it
with the settings and database of the app to measure, such as those of `make serve`:

    python -m bench.cpu /en/commitments/ "/en/commitments/?status=kept" --requests 200
    python -m bench.cpu /api/v1/commitments/ --header "If-None-Match: W/\"…\"" --profile

Each URL is asked 20 times first, to warm up what a worker keeps between requests. --profile then
prints where the time goes (cProfile, which slows calls down unevenly: compare its figures only
with each other).
"""

import argparse
import cProfile
import io
import pstats
import sys
import time

WARM_UP_REQUESTS = 20


def wsgi_environ(path, headers):
    path_info, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def request(application, path, headers):
    """The status line of one request, its body read whole."""
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = status

    body = application(wsgi_environ(path, headers), start_response)
    try:
        for _chunk in body:
            pass
    finally:
        if hasattr(body, "close"):
            body.close()
    return answer["status"]


def cpu_per_request(application, path, *, requests, headers=None):
    """The status of the last answer, and the CPU milliseconds of one request on average."""
    headers = headers or {}
    for _ in range(WARM_UP_REQUESTS):
        status = request(application, path, headers)
    started = time.process_time()
    for _ in range(requests):
        status = request(application, path, headers)
    return status, (time.process_time() - started) / requests * 1000


def parse_header(text):
    name, separator, value = text.partition(":")
    if not separator or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not 'Name: value'.")
    return name.strip(), value.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a path, with its query")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per path")
    parser.add_argument(
        "--header", type=parse_header, action="append", default=[], help="'Name: value'"
    )
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument("--lines", type=int, default=40, help="functions the profile prints")
    options = parser.parse_args(argv)
    if options.requests < 1:
        parser.error("--requests must be at least 1.")

    # What the app server runs: the page cache's front door before Django's handler.
    from config.wsgi import application

    headers = dict(options.header)
    for path in options.paths:
        status, milliseconds = cpu_per_request(
            application, path, requests=options.requests, headers=headers
        )
        print(f"{path}: {status}, {milliseconds:.2f} ms of CPU per request")
        if options.profile:
            profile = cProfile.Profile()
            profile.runcall(cpu_per_request, application, path, requests=options.requests)
            pstats.Stats(profile).sort_stats("tottime").print_stats(options.lines)


if __name__ == "__main__":
    main()
