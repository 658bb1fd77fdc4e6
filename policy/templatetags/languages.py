"""The site in each of its languages: the current page's address in each, and their BCP 47 tags."""

from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from django.utils.translation import get_language, override, to_locale

register = template.Library()


@register.filter
def bcp47(language_code):
    """Django's language code as the BCP 47 tag of `lang` and `hreflang`: zh-hans → zh-Hans."""
    return to_locale(language_code).replace("_", "-")


def _url_in(language_code, request):
    # An address that resolves to no page has no counterpart: offer the home page instead.
    if request.resolver_match is None:
        with override(language_code):
            return reverse("policy:home")
    return translate_url(request.get_full_path(), language_code)


@register.simple_tag(takes_context=True)
def language_versions(context):
    """The current page, query string included, in each language of LANGUAGES."""
    request = context["request"]
    current = get_language()
    versions = []
    for code, name in settings.LANGUAGES:
        url = _url_in(code, request)
        versions.append(
            {
                "tag": bcp47(code),
                "name": name,
                "url": url,
                "absolute_url": request.build_absolute_uri(url),
                "is_current": code == current,
                "is_default": code == settings.LANGUAGE_CODE,
            }
        )
    return versions
