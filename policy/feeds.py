"""RSS and Atom feeds of new articles and of commitment status changes, in the site's language.

`items()` runs on every request, so a scheduled record joins a feed at its time, not at a restart.
"""

import datetime

from django.contrib.syndication.views import Feed
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext, gettext_lazy

from policy.models import Article, Authorship, Commitment, StatusUpdate

FEED_LENGTH = 20


def _start_of(date):
    # Naive: the feed makes it aware in the site's time zone.
    return datetime.datetime.combine(date, datetime.time.min)


class LatestArticlesFeed(Feed):
    title = gettext_lazy("Puente: latest articles")
    description = gettext_lazy("The analyses and reports that the commitments are quoted from.")

    def link(self):
        return reverse("policy:article_list")

    def author_name(self):
        return gettext("Puente")

    def items(self):
        return (
            Article.objects.published()
            .prefetch_related(
                Prefetch("authorships", queryset=Authorship.objects.select_related("person")),
                "keywords",
            )
            .order_by("-publication_date", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, article):
        # Readers may take a title as HTML, so it is escaped once more, as Django's own default.
        return escape(article.title)

    def item_description(self, article):
        return escape(article.lead)

    def item_pubdate(self, article):
        return _start_of(article.publication_date)

    def item_updateddate(self, article):
        return article.updated_at

    def item_author_name(self, article):
        return ", ".join(authorship.person.name for authorship in article.authorships.all()) or None

    def item_categories(self, article):
        return [keyword.name for keyword in article.keywords.all()]


class LatestArticlesAtomFeed(LatestArticlesFeed):
    feed_type = Atom1Feed
    subtitle = LatestArticlesFeed.description


class StatusChangesFeed(Feed):
    """Each dated status update of a published commitment, newest first."""

    title = gettext_lazy("Puente: commitment status changes")
    description = gettext_lazy("How far each commitment has come, as the evidence shows it.")

    def link(self):
        return reverse("policy:commitment_list")

    def author_name(self):
        return gettext("Puente")

    def items(self):
        return (
            StatusUpdate.objects.filter(commitment__in=Commitment.objects.published())
            .select_related("commitment")
            .order_by("-date", "-pk")[:FEED_LENGTH]
        )

    def item_title(self, update):
        return escape(
            gettext("%(commitment)s: %(status)s")
            % {"commitment": update.commitment.title, "status": update.get_status_display()}
        )

    def item_description(self, update):
        return escape(update.note)

    def item_link(self, update):
        # The entry of the commitment's timeline: `id` of its item in commitment_detail.html.
        return update.get_absolute_url()

    def item_pubdate(self, update):
        return _start_of(update.date)


class StatusChangesAtomFeed(StatusChangesFeed):
    feed_type = Atom1Feed
    subtitle = StatusChangesFeed.description
