"""The trivial view of the benchmark's baselines (bench/README.md).

The same small JSON answer under the bare Django baseline (bench/bare_settings.py, no app, no
middleware) and under the app's full middleware stack (/bench/trivial/ with BENCH_VIEWS=1). It
imports nothing of the app, which the bare baseline does not load.
"""

from django.http import JsonResponse


def trivial(request):
    return JsonResponse({"status": "ok", "service": "puente"})
