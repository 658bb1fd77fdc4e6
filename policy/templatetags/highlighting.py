from django import template

from policy import highlighting

register = template.Library()


@register.simple_tag
def quoted_paragraphs(article, *, quotes, commitments):
    """The article's paragraphs as HTML, with `quotes` marked and linked to `commitments`."""
    return highlighting.render_quoted_paragraphs(article.body, quotes, commitments)
