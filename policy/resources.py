"""Import and export of commitments and their figures as CSV, XLSX or JSON.

Text cells that a spreadsheet would run as formulas are escaped in every file, and unescaped on
import (policy/spreadsheets.py); numbers are left alone. django-import-export's own
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is not used: it deletes a leading "=" and nothing else,
and turns every cell, numbers too, into text.
"""

import datetime
from decimal import Decimal, InvalidOperation

import reversion
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from policy.models import Actor, Commitment, Country, Event, FocusArea
from policy.spreadsheets import escape_formula, unescape_formula
from policy.workflow import WorkflowPermissionDenied, check_publication_change


class ExactDecimalWidget(widgets.DecimalWidget):
    """A figure as an exact decimal string in every format and locale, never a float.

    Spreadsheets store numbers as floats, which cannot hold every 20-digit amount, so even
    XLSX gets the text.
    """

    def clean(self, value, row=None, **kwargs):
        if self.is_empty(value):
            return None
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(
                _("“%(value)s” is not a number; write it like 66000000000.00.") % {"value": value}
            ) from None

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class DayWidget(widgets.DateWidget):
    """A date written as 2025-01-31, or a date cell of a spreadsheet."""

    def clean(self, value, row=None, **kwargs):
        try:
            value = super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                _("“%(value)s” is not a date; write it like 2025-01-31.") % {"value": value}
            ) from None
        # Spreadsheets hand dates back as datetimes at midnight.
        return value.date() if isinstance(value, datetime.datetime) else value


def _unknown(model, field, value):
    return _("No %(noun)s has the %(key)s “%(value)s”.") % {
        "noun": model._meta.verbose_name,
        "key": model._meta.get_field(field).verbose_name,
        "value": value,
    }


class KeyWidget(widgets.ForeignKeyWidget):
    """A related record named by a unique key such as its slug."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(_unknown(self.model, self.field, value)) from None


class KeysWidget(widgets.ManyToManyWidget):
    """Related records as their unique keys separated by semicolons; each must exist."""

    def __init__(self, model, field):
        super().__init__(model, separator=";", field=field)

    def clean(self, value, row=None, **kwargs):
        keys = [key.strip() for key in str(value or "").split(self.separator) if key.strip()]
        found = self.model.objects.filter(**{f"{self.field}__in": keys})
        known = {getattr(record, self.field) for record in found}
        if unknown := [key for key in keys if key not in known]:
            raise ValueError(" ".join(_unknown(self.model, self.field, key) for key in unknown))
        return found


def is_text_cell(field, value):
    """Whether the cell holds text: the figures are exact decimal strings, yet numbers."""
    return isinstance(value, str) and not isinstance(field.widget, widgets.NumberWidget)


class CommitmentResource(resources.ModelResource):
    """One row per commitment, keyed by its slug, with related records by slug or ISO code.

    An import is all or nothing: one invalid row, or one change the user's role does not
    allow, and nothing is written. Each imported record gets its own entry in the history.
    """

    WIDGETS_MAP = {
        **resources.ModelResource.WIDGETS_MAP,
        "DecimalField": ExactDecimalWidget,
        "DateField": DayWidget,
    }

    parties = fields.Field(attribute="parties", widget=KeysWidget(Actor, "slug"))
    countries = fields.Field(attribute="countries", widget=KeysWidget(Country, "iso_code"))
    focus_areas = fields.Field(attribute="focus_areas", widget=KeysWidget(FocusArea, "slug"))
    part_of = fields.Field(attribute="part_of", widget=KeyWidget(Commitment, "slug"))
    announced_at = fields.Field(attribute="announced_at", widget=KeyWidget(Event, "slug"))
    status = fields.Field(attribute="current_status", readonly=True)

    class Meta:
        model = Commitment
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "title",
            "description",
            "kind",
            "geographic_scope",
            "parties",
            "countries",
            "focus_areas",
            "part_of",
            "announced_at",
            "target_qualifier",
            "target_value",
            "target_unit",
            "amount",
            "currency",
            "usd_equivalent",
            "period_start",
            "period_start_precision",
            "period_end",
            "period_end_precision",
            "publication_status",
            "status",
        ]
        clean_model_instances = True
        use_transactions = True
        # Re-importing an export leaves its rows, their versions and their history alone.
        skip_unchanged = True

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return escape_formula(value) if is_text_cell(field, value) else value

    def before_import_row(self, row, **kwargs):
        for field in self.get_import_fields():
            value = row.get(field.column_name)
            if is_text_cell(field, value):
                row[field.column_name] = unescape_formula(value)

    def import_data(self, dataset, *, user, file_name=None, **kwargs):
        self.user = user
        self.revision_comment = (
            _("Imported from %(file)s") % {"file": file_name} if file_name else _("Imported")
        )
        # By default the library keeps the valid rows of a file that has invalid ones.
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, user=user, file_name=file_name, **kwargs)

    def import_row(self, row, instance_loader, **kwargs):
        with reversion.create_revision():
            reversion.set_user(self.user)
            reversion.set_comment(self.revision_comment)
            return super().import_row(row, instance_loader, **kwargs)

    def get_import_fields(self):
        # The current status comes from the status updates; a file cannot set it.
        return [field for field in super().get_import_fields() if not field.readonly]

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        # The library sets related lists only after saving; check them now, with the rest.
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row:
                try:
                    field.clean(row, **kwargs)
                except ValueError as error:
                    errors[field.attribute] = [ValidationError(str(error))]
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            check_publication_change(user=self.user, instance=instance)
        except WorkflowPermissionDenied as refusal:
            errors.setdefault("publication_status", []).append(ValidationError(str(refusal)))
        super().validate_instance(instance, errors, validate_unique)

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("part_of", "announced_at").prefetch_related(
            "parties", "countries", "focus_areas"
        )
