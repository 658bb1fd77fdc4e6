"""The editors' dashboard on the admin index: what awaits review and what is scheduled."""

from django import template
from django.urls import reverse

from policy.models import PUBLISHABLE_MODELS

register = template.Library()

DASHBOARD_ROWS = 10


def _rows(queryset, user):
    model = queryset.model
    opts = model._meta
    if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        return []
    return [
        {
            "record": record,
            "kind": opts.verbose_name,
            "url": reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk]),
        }
        for record in queryset[:DASHBOARD_ROWS]
    ]


@register.inclusion_tag("admin/includes/editorial_dashboard.html", takes_context=True)
def editorial_dashboard(context):
    user = context["request"].user
    awaiting = []
    scheduled = []
    for model in PUBLISHABLE_MODELS:
        awaiting += _rows(model.objects.awaiting_review().order_by("updated_at"), user)
        scheduled += _rows(model.objects.scheduled().order_by("publish_at", "unpublish_at"), user)
    return {"awaiting_review": awaiting, "scheduled": scheduled}
