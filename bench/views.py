"""The trivial view of the benchmark's baselines, and the site's layout alone (bench/README.md).

The same small JSON answer under the bare Django baseline (bench/bare_settings.py, no app, no
middleware) and under the app's full middleware stack (/bench/trivial/ with BENCH_VIEWS=1). It
imports nothing of the app, which the bare baseline does not load.
"""

from functools import cache

from django.http import JsonResponse
from django.template import engines
from django.template.response import TemplateResponse


def trivial(request):
    return JsonResponse({"status": "ok", "service": "puente"})


@cache
def layout_template():
    return engines["django"].from_string('{% extends "base.html" %}')


def layout(request):
    """A public page with nothing but the site's layout, and no query: the least that any page of
    the site costs to render."""
    return TemplateResponse(request, layout_template())
