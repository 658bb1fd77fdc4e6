"""sitemap.xml: every public page in every language, each naming its versions in the others.

Records come from `published()` on every request, so a draft, a record scheduled for later and
an expired one are never listed.
"""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from policy.models import Article, Commitment, Country, FocusArea


class TranslatedSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True

    def get_urls(self, page=1, site=None, protocol=None):
        urls = super().get_urls(page, site, protocol)
        # Django's x-default drops the language prefix, which here only redirects; like the
        # hreflang links in <head>, it names the default language's version instead.
        for url in urls:
            locations = {each["lang_code"]: each["location"] for each in url["alternates"]}
            for alternate in url["alternates"]:
                if alternate["lang_code"] == "x-default":
                    alternate["location"] = locations[settings.LANGUAGE_CODE]
        return urls


class PublishedSitemap(TranslatedSitemap):
    model = None

    def items(self):
        return self.model.objects.published()

    def lastmod(self, record):
        return record.updated_at


class ArticleSitemap(PublishedSitemap):
    model = Article


class CommitmentSitemap(PublishedSitemap):
    model = Commitment


class FocusAreaSitemap(PublishedSitemap):
    model = FocusArea


class CountrySitemap(TranslatedSitemap):
    # Reference data: every country has a page, and no record of when it changed.
    def items(self):
        return Country.objects.all()


class PageSitemap(TranslatedSitemap):
    def items(self):
        return [
            "policy:home",
            "policy:commitment_list",
            "policy:article_list",
            "policy:focusarea_list",
            "policy:country_list",
        ]

    def location(self, url_name):
        return reverse(url_name)


SITEMAPS = {
    "pages": PageSitemap,
    "articles": ArticleSitemap,
    "commitments": CommitmentSitemap,
    "focus-areas": FocusAreaSitemap,
    "countries": CountrySitemap,
}
