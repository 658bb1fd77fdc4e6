from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def publication_state(record):
    """Marks a record the public does not see with the reason: Draft, Scheduled, Expired…"""
    state = record.unpublished_state
    return format_html(' <span class="publication-state">{}</span>', state) if state else ""
