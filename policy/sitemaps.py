"""sitemap.xml: an index of sections, which list every public page in every language, each page
naming its versions in the others.

A section comes in pages of `limit` URLs (/sitemap-commitments.xml?p=2), far below the 50,000
URLs and 50 MB that the protocol allows a file. A page reads its own records only: one query for
them and one to count the section, whatever its length.

Records come from `published()` on every request, so a draft, a record scheduled for later and
an expired one are never listed.
"""

import math
from collections.abc import Sequence

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import translation

from policy.models import Article, Commitment, Country, FocusArea

# A page of a section lists this many URLs, each with its five language versions: about 0.8 MB.
URLS_PER_PAGE = 1000


class LanguageVersions(Sequence):
    """Every record in every language, as (record, language) pairs in the order Django's
    sitemaps list them, read from the database a slice at a time.

    Django's own list of the pairs would read every record of the section for each page.
    """

    def __init__(self, records, languages):
        self.records = records
        self.languages = languages

    def __len__(self):
        count = self.records.count() if isinstance(self.records, QuerySet) else len(self.records)
        return count * len(self.languages)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        per_record = len(self.languages)
        first = index.start // per_record
        records = self.records[first : math.ceil(index.stop / per_record)]
        pairs = [(record, language) for record in records for language in self.languages]
        return pairs[index.start - first * per_record : index.stop - first * per_record]


class TranslatedSitemap(Sitemap):
    i18n = True
    # Every record has a page in every language.
    languages = [code for code, _ in settings.LANGUAGES]
    alternates = True
    x_default = True
    limit = URLS_PER_PAGE

    def __init__(self):
        # The view makes a sitemap for each request. Django asks for a record's address in a
        # language six times on a page: for the record's entry in it and for the alternates of
        # its four entries, and again for x-default. Each is found once.
        self.locations = {}

    @property
    def paginator(self):
        return Paginator(LanguageVersions(self.items(), self.languages), self.limit)

    def location(self, item):
        key = (item, translation.get_language())
        if key not in self.locations:
            self.locations[key] = self.location_of(item)
        return self.locations[key]

    def location_of(self, item):
        """The item's address in the active language."""
        return item.get_absolute_url()

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
        # A total order, so that no record moves from one page to another between requests.
        return self.model.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, record):
        return record.updated_at

    def get_latest_lastmod(self):
        # For the index, from the database rather than from every record of the section.
        return self.items().aggregate(latest=Max("updated_at"))["latest"]


class ArticleSitemap(PublishedSitemap):
    model = Article


class CommitmentSitemap(PublishedSitemap):
    model = Commitment


class FocusAreaSitemap(PublishedSitemap):
    model = FocusArea


class CountrySitemap(TranslatedSitemap):
    # Reference data: every country has a page, and no record of when it changed.
    def items(self):
        return Country.objects.order_by("pk")


class PageSitemap(TranslatedSitemap):
    def items(self):
        return [
            "policy:home",
            "policy:commitment_list",
            "policy:article_list",
            "policy:focusarea_list",
            "policy:country_list",
        ]

    def location_of(self, url_name):
        return reverse(url_name)


SITEMAPS = {
    "pages": PageSitemap,
    "articles": ArticleSitemap,
    "commitments": CommitmentSitemap,
    "focus-areas": FocusAreaSitemap,
    "countries": CountrySitemap,
}
