"""The site in each of its languages: the current page's address in each, and their BCP 47 tags."""

from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, override, to_locale

register = template.Library()


@register.filter
def bcp47(language_code):
    """Django's language code as the BCP 47 tag of `lang` and `hreflang`: zh-hans → zh-Hans."""
    return to_locale(language_code).replace("_", "-")


def _url_in(language_code, request):
    """The current page in another language, reversed from the request's own match.

    Not `translate_url`, which resolves the address again for each language, and cannot resolve
    one under a path prefix (SCRIPT_NAME).
    """
    match = request.resolver_match
    with override(language_code):
        # An address that resolves to no page has no counterpart: offer the home page instead.
        if match is None:
            return reverse("policy:home")
        try:
            path = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return request.get_full_path()
    query = urlsplit(request.get_full_path()).query
    return f"{path}?{query}" if query else path


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
