"""Request guards that hold for the whole site."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from policy.api.errors import API_PATH_PREFIX, ProblemJSONRenderer, problem


class RejectNullCharactersMiddleware:
    """A NUL byte in the path or the query answers 400: PostgreSQL cannot store or compare one,
    so letting it reach a query would turn a typo or a probe into a server error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value for key, value in request.GET.items()
        ):
            return self.bad_request(request)
        return self.get_response(request)

    def bad_request(self, request):
        detail = _("The request contains a NUL character, which no field accepts.")
        if request.path.startswith(API_PATH_PREFIX):
            body = problem(status=400, detail=detail, instance=request.path)
            return HttpResponse(
                ProblemJSONRenderer().render(body),
                status=400,
                content_type=ProblemJSONRenderer.media_type,
            )
        return HttpResponseBadRequest(detail, content_type="text/plain; charset=utf-8")
