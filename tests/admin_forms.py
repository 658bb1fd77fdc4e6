"""Driving admin forms from tests the way a browser does."""

import re

from django.forms import SplitDateTimeWidget
from django.urls import reverse
from django.utils import timezone


def admin_url(model, view, *args):
    return reverse(f"admin:policy_{model._meta.model_name}_{view}", args=args)


RENDERED_NAME = re.compile(r'\sname="([^"]+)"')


def change_form_data(response, **overrides):
    """The POST a browser would send from an admin change form, with some fields changed: the
    values of the fields the page renders. A field of the form that no fieldset names is not on
    the page, so a browser never sends it."""
    rendered = set(RENDERED_NAME.findall(response.content.decode()))
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for name, field in form.fields.items():
            key, value = form.add_prefix(name), form[name].value()
            if value is None or value is False or not rendered & {key, f"{key}_0"}:
                continue
            if isinstance(field.widget, SplitDateTimeWidget):
                local = timezone.localtime(value)
                data[f"{key}_0"], data[f"{key}_1"] = local.date(), local.time()
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            else:
                data[key] = "on" if value is True else str(value)
    data.update(overrides)
    return data
