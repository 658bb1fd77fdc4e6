"""CSV export of every list, and of each record: ?format=csv or Accept: text/csv.

One row per record, with the columns of the serializer: nested objects become dotted columns
(`figures.amount.value`), lists are joined with "; ". A list streams its rows from the
database in chunks, each with its own prefetch, so memory stays flat however long the list; one
serializer shapes every row. Text cells that a spreadsheet would run as a formula are escaped
(policy/spreadsheets.py). Links in the rows keep ?format=csv, as DRF's links do for any format
asked for.
"""

import csv
import json

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header
from rest_framework import renderers, serializers
from rest_framework.settings import api_settings
from rest_framework.utils import encoders

from policy.spreadsheets import escape_formula

LIST_SEPARATOR = "; "
NUMBER_FIELDS = (serializers.IntegerField, serializers.FloatField, serializers.DecimalField)


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, line):
        return line


def _shown_serializer(field):
    """The serializer that shapes the field's value, if any.

    A related field that shows a summary of the record names its serializer in `summary`
    (SummaryRelatedField).
    """
    if isinstance(field, serializers.ListSerializer):
        field = field.child
    elif isinstance(field, serializers.ManyRelatedField):
        field = field.child_relation
    if isinstance(field, serializers.Serializer):
        return field
    summary = getattr(field, "summary", None)
    return summary(context=field.context) if summary else None


def csv_columns(fields, prefix=()):
    """The path of every column, and the field it shows: one per scalar field, nested
    serializers flattened."""
    for name, field in fields.items():
        if field.write_only:
            continue
        path = (*prefix, name)
        if nested := _shown_serializer(field):
            yield from csv_columns(nested.fields, path)
        else:
            yield path, field


def _values(value, path):
    if isinstance(value, list):
        for item in value:
            yield from _values(item, path)
    elif not path:
        if value is not None:
            yield value
    elif isinstance(value, dict):
        yield from _values(value.get(path[0]), path[1:])


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        # A shape no serializer declares: kept whole, as JSON.
        return json.dumps(value, ensure_ascii=False, cls=encoders.JSONEncoder)
    return str(value)


def csv_cell(record, path):
    """The value at `path` in a serialized record; the values of a list, joined."""
    return LIST_SEPARATOR.join(_text(value) for value in _values(record, path))


def _cells(record, columns):
    for path, field in columns:
        cell = csv_cell(record, path)
        yield cell if isinstance(field, NUMBER_FIELDS) else escape_formula(cell)


def _lines(records, columns):
    writer = csv.writer(_Echo())
    yield writer.writerow(".".join(path) for path, _ in columns)
    for record in records:
        yield writer.writerow(_cells(record, columns))


def _serialized(records, serializer):
    """Each record's representation, all by one serializer: building one costs a hundred times
    more than using it."""
    for record in records:
        yield serializer.to_representation(record)
        # Records prefetched into it refer back to it (quote.commitment), a cycle that only the
        # garbage collector's rare full pass would free, with many chunks in memory meanwhile.
        # Emptied, the record lets them all go at once.
        vars(record).clear()


class CSVRenderer(renderers.BaseRenderer):
    """Renders serialized records as CSV lines, lazily, in the columns of the view's serializer."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Lines of CSV for one serialized record, or for an iterable of them; none for no data."""
        if data is None:
            return b""
        serializer = renderer_context["view"].get_serializer()
        return _lines(
            [data] if isinstance(data, dict) else data, list(csv_columns(serializer.fields))
        )


class CSVExportMixin:
    """Offers CSV on a viewset; its list streams the filtered records, unpaginated."""

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]
    csv_chunk_size = 500

    def list(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        if not isinstance(renderer, CSVRenderer):
            return super().list(request, *args, **kwargs)
        records = _serialized(
            self.exported(self.filter_queryset(self.get_queryset())), self.get_serializer()
        )
        response = StreamingHttpResponse(
            renderer.render(records, renderer_context=self.get_renderer_context()),
            content_type=f"{renderer.media_type}; charset={renderer.charset}",
        )
        # Named after the list: /api/v1/focus-areas/ downloads as focus-areas.csv.
        filename = f"{request.path.rstrip('/').rsplit('/', 1)[-1]}.csv"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    def exported(self, queryset):
        """The records of the export, read from the database in chunks."""
        return queryset.iterator(chunk_size=self.csv_chunk_size)
