"""The OpenAPI schema of /api/v1/, as drf-spectacular generates it, plus what it cannot see.

It adds to every operation the problem-details errors it may answer, to lists their CSV form,
and to reads their conditional headers and 304 Not Modified.
"""

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from .conditional import ConditionalGetMixin
from .errors import ProblemJSONRenderer
from .export import CSVRenderer


class ProblemSerializer(serializers.Serializer):
    """An error, as RFC 9457 problem details."""

    type = serializers.CharField(help_text='"about:blank": the status says what went wrong.')
    title = serializers.CharField(help_text="The phrase of the HTTP status, such as “Not Found”.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong, for a person to read.")
    instance = serializers.CharField(help_text="The path of the request.")


class ValidationProblemSerializer(ProblemSerializer):
    """An invalid request: the messages of each field, or a body that could not be parsed."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text=(
            "The messages of each invalid field; a nested field is a dotted path such as "
            "`figures.amount.value`, and errors of no one field are under `non_field_errors`."
        ),
    )


class PublicPageFieldExtension(OpenApiSerializerFieldExtension):
    """The page's address: a URI, which drf-spectacular cannot read off get_absolute_url."""

    target_class = "policy.api.serializers.PublicPageField"

    def map_serializer_field(self, auto_schema, direction):
        return build_basic_type(OpenApiTypes.URI)


def _header(description, type_="string"):
    return {"schema": {"type": type_}, "description": description}


VALIDATORS = {
    "ETag": _header("A weak validator for If-None-Match; it changes with the body."),
    "Last-Modified": _header("The latest change of the records shown, where they record one."),
    "Cache-Control": _header(
        "`public, max-age=60` for anonymous clients, else `private, no-store`."
    ),
}
CONDITIONAL_PARAMETERS = [
    {
        "in": "header",
        "name": "If-None-Match",
        "schema": {"type": "string"},
        "description": "The ETag of a stored copy: 304 Not Modified while it is current.",
    },
    {
        "in": "header",
        "name": "If-Modified-Since",
        "schema": {"type": "string"},
        "description": "An HTTP date: 304 Not Modified if nothing shown has changed since.",
    },
]
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class AutoSchema(openapi.AutoSchema):
    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content", {})
        if CSVRenderer.media_type in content:
            content[CSVRenderer.media_type] = {
                "schema": {
                    "type": "string",
                    "description": "A header row, then one row per record: for a list, every "
                    "record of the filtered list, unpaginated. Nested fields are dotted columns; "
                    "lists are joined with “; ”.",
                }
            }
        return response

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        conditional = self.method == "GET" and isinstance(self.view, ConditionalGetMixin)
        if conditional:
            operation.setdefault("parameters", []).extend(CONDITIONAL_PARAMETERS)
            responses["200"].setdefault("headers", {}).update(VALIDATORS)
            responses["304"] = {
                "description": "Not Modified: the client's copy is current.",
                "headers": VALIDATORS,
            }
        for status_code, description in self.errors(operation, conditional):
            responses.setdefault(str(status_code), self.problem_response(status_code, description))
        return operation

    def errors(self, operation, conditional):
        """The errors this operation may answer, with what each means here."""
        has_query = any(p["in"] == "query" for p in operation.get("parameters", []))
        has_body = "requestBody" in operation
        if has_query or has_body:
            yield 400, "Invalid query parameters or body; `errors` names each field."
        yield 401, "Credentials are missing where a write needs them, or wrong."
        yield 403, "The client may not do this."
        yield 404, "No such record, page or format."
        yield 405, "The method is not allowed here."
        yield 406, "None of the media types in Accept can be served."
        if self.method == "DELETE":
            yield 409, "Other records point to this one: change them first."
        if conditional or self.method in WRITE_METHODS:
            yield 412, "If-Match or If-Unmodified-Since does not hold: the record has changed."
        if has_body:
            yield 415, "The body's Content-Type is not accepted."
        yield 429, "Too many requests: try again after Retry-After seconds."

    def problem_response(self, status_code, description):
        serializer = ValidationProblemSerializer if status_code == 400 else ProblemSerializer
        response = {
            "description": description,
            "content": {
                ProblemJSONRenderer.media_type: {
                    "schema": self.resolve_serializer(serializer, "response").ref
                }
            },
        }
        if status_code == 401:
            response["headers"] = {"WWW-Authenticate": _header("How to authenticate.")}
        if status_code == 429:
            response["headers"] = {
                "Retry-After": _header("Seconds to wait before the next request.", "integer")
            }
        return response
