"""Images on the public site, offered in every rendition for the browser to choose from."""

from django import template
from django.forms.utils import flatatt
from django.utils.html import format_html

from policy.images import renditions

register = template.Library()


@register.simple_tag
def responsive_image(record, *, sizes="100vw", css_class="", rendition="card", lazy=True):
    """An <img> of the record's image with a srcset of its renditions; nothing without an image.

    `rendition` gives the src and the width and height, which set the largest size it is shown
    at. An image that is in view when the page opens, such as a lead image, loads at once with
    `lazy=False`.
    """
    sources = renditions(record.image)
    if not sources:
        return ""
    # A small original gives several renditions of one width; a srcset names each width once.
    urls_by_width = {}
    for source in sources.values():
        urls_by_width.setdefault(source.width, source.url)
    fallback = sources[rendition]
    attributes = {
        "src": fallback.url,
        "srcset": ", ".join(f"{url} {width}w" for width, url in urls_by_width.items()),
        "sizes": sizes,
        "width": fallback.width,
        "height": fallback.height,
        "alt": record.image_alt,
        "class": css_class or None,
        "loading": "lazy" if lazy else None,
        "decoding": "async",
    }
    return format_html("<img{}>", flatatt(attributes))
