"""What a page tells search engines, feed readers and link previews about itself.

`{% page_meta %}` renders the <head> metadata of every page from its title and description
blocks and the record it shows; the JSON-LD tags describe an article or the site in schema.org.
"""

import html
import json
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.html import format_html, strip_tags
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, to_locale

from policy.images import renditions
from policy.models import Article
from policy.templatetags.languages import bcp47

register = template.Library()

# About what search results show of a description before they cut it.
DESCRIPTION_LENGTH = 160
# Open Graph wants language_TERRITORY. The copy is British English; es_LA is Facebook's
# Latin American Spanish.
OG_LOCALES = {"en": "en_GB", "es": "es_LA", "pt-br": "pt_BR", "zh-hans": "zh_CN"}
# The characters that could end a <script> element early or open a comment in it.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def plain_text(rendered):
    """Rendered, escaped template output as one line of text, to be escaped once again."""
    return " ".join(html.unescape(strip_tags(rendered)).split())


def shorten(text, length=DESCRIPTION_LENGTH):
    """The text, cut at the last word that fits when it is too long for a search result."""
    if len(text) <= length:
        return text
    cut = text[: length - 1]
    # A language written without spaces, such as Chinese, is cut at the character.
    space = cut.rfind(" ")
    if space > length // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.–-") + "…"


def canonical_url(request, record=None):
    """The address search engines should index for this page.

    A record's page is one page whatever its query string says. A list keeps the filters and
    page it shows, in a stable order, without empty fields or `page=1` (tracking parameters never
    reach it: policy.middleware.DropTrackingParametersMiddleware).
    """
    if record is not None:
        return request.build_absolute_uri(request.path)
    kept = sorted(
        (key, value)
        for key, values in request.GET.lists()
        for value in values
        if value and not (key == "page" and value == "1")
    )
    query = f"?{urlencode(kept)}" if kept else ""
    return request.build_absolute_uri(request.path) + query


def og_locale(language_code):
    return OG_LOCALES.get(language_code, to_locale(language_code))


def lead_image(request, record):
    """The largest rendition of the record's image, with an absolute address; None without one."""
    image = getattr(record, "image", None)
    full = renditions(image).get("full") if image is not None else None
    if full is None:
        return None
    return {
        "url": request.build_absolute_uri(full.url),
        "width": full.width,
        "height": full.height,
        "alt": record.image_alt,
    }


def page_metadata(context, *, title, description):
    request = context["request"]
    record = context.get("object")
    page = context.get("page_obj")
    if page is not None and page.number > 1:
        title = gettext("%(title)s, page %(number)s") % {"title": title, "number": page.number}
    language = get_language()
    metadata = {
        "title": title,
        "description": shorten(description),
        "canonical_url": canonical_url(request, record),
        "og_type": "website",
        "og_locale": og_locale(language),
        "og_locale_alternates": [
            og_locale(code) for code, _ in settings.LANGUAGES if code != language
        ],
        "image": lead_image(request, record),
    }
    if isinstance(record, Article):
        metadata["og_type"] = "article"
        metadata["published_time"] = record.publication_date.isoformat()
        metadata["modified_time"] = record.updated_at.isoformat()
    return metadata


class PageMetaNode(template.Node):
    child_nodelists = ("title", "description")

    def __init__(self, title, description):
        self.title = title
        self.description = description

    def render(self, context):
        metadata = page_metadata(
            context,
            title=plain_text(self.title.render(context)),
            description=plain_text(self.description.render(context)),
        )
        meta = context.template.engine.get_template("includes/meta.html")
        with context.push(**metadata):
            return meta.render(context)


@register.tag
def page_meta(parser, token):
    """The <head> metadata of a page from its title and its description, both usually blocks.

    {% page_meta %}{% block title %}…{% endblock %}{% description %}…{% endpage_meta %}
    """
    title = parser.parse(("description",))
    parser.delete_first_token()
    description = parser.parse(("endpage_meta",))
    parser.delete_first_token()
    return PageMetaNode(title, description)


def json_ld(data):
    """A schema.org description as a <script> that no value in it can break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    # Safe: the JSON has no <, > or &, so nothing in it can end the element or open another.
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))  # noqa: S308


def _author(authorship):
    person = {"@type": "Person", "name": authorship.person.name}
    if authorship.affiliation:
        person["affiliation"] = {"@type": "Organization", "name": authorship.affiliation}
    return person


@register.simple_tag(takes_context=True)
def news_article_json_ld(context, article):
    request = context["request"]
    url = canonical_url(request, article)
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": shorten(article.lead),
        "datePublished": article.publication_date,
        "dateModified": article.updated_at,
        "inLanguage": article.language,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "author": [_author(authorship) for authorship in article.authorships.all()],
    }
    if article.publisher:
        data["publisher"] = {"@type": "Organization", "name": article.publisher.name}
    if image := lead_image(request, article):
        data["image"] = {
            "@type": "ImageObject",
            "url": image["url"],
            "width": image["width"],
            "height": image["height"],
        }
    if article.source_url:
        data["isBasedOn"] = article.source_url
    return json_ld(data)


@register.simple_tag(takes_context=True)
def website_json_ld(context):
    request = context["request"]
    return json_ld(
        {
            "@context": "https://schema.org",
            "@type": "WebSite",
            "name": gettext("Puente"),
            "url": request.build_absolute_uri(reverse("policy:home")),
            "inLanguage": bcp47(get_language()),
        }
    )
