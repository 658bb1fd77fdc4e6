"""Multi-step writes that must happen together or not at all."""

import hashlib

import reversion
from django.db import transaction
from django.utils.text import slugify

from policy.importing import ParsedArticle
from policy.models import (
    Actor,
    ActorKind,
    Article,
    Authorship,
    ContentLanguage,
    Keyword,
    Person,
    PublicationStatus,
)
from policy.workflow import check_publication_change


def _slug_for(text, *, max_length):
    slug = slugify(text)[:max_length].strip("-")
    if slug:
        return slug
    # Names in scripts slugify() cannot transliterate (Chinese, for one) get a stable digest.
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@transaction.atomic
def import_article(
    *, parsed: ParsedArticle, language: str = ContentLanguage.ENGLISH
) -> tuple[Article, bool]:
    """Create or update the article with the parsed headline; return it and whether it is new.

    A second import of the same headline updates the article in place and keeps its
    publication status, so re-running an import never duplicates or unpublishes anything.
    """
    publisher, _ = Actor.objects.get_or_create(
        name=parsed.publisher,
        defaults={"slug": _slug_for(parsed.publisher, max_length=200), "kind": ActorKind.MEDIA},
    )
    slug = _slug_for(parsed.title, max_length=200)
    article = Article.objects.filter(slug=slug).first() or Article(slug=slug)
    created = article.pk is None
    article.title = parsed.title
    article.publication_date = parsed.publication_date
    article.body = parsed.body
    article.publisher = publisher
    article.language = language
    article.full_clean()
    article.save()

    authors = []
    for order, name in enumerate(parsed.author_names):
        person, _ = Person.objects.get_or_create(
            slug=_slug_for(name, max_length=200), defaults={"name": name}
        )
        Authorship.objects.update_or_create(
            article=article,
            person=person,
            defaults={"affiliation": parsed.affiliation, "order": order},
        )
        authors.append(person)
    article.authorships.exclude(person__in=authors).delete()

    article.keywords.set(
        Keyword.objects.get_or_create(
            name=name, defaults={"slug": _slug_for(name, max_length=100)}
        )[0]
        for name in parsed.keywords
    )
    return article, created


# Bulk transitions: the target state and the states a record may leave for it.
TRANSITIONS = {
    "submit_for_review": (PublicationStatus.IN_REVIEW, {PublicationStatus.DRAFT}),
    "publish": (
        PublicationStatus.PUBLISHED,
        {PublicationStatus.DRAFT, PublicationStatus.IN_REVIEW, PublicationStatus.ARCHIVED},
    ),
    "unpublish": (PublicationStatus.DRAFT, {PublicationStatus.PUBLISHED}),
    "archive": (
        PublicationStatus.ARCHIVED,
        {PublicationStatus.DRAFT, PublicationStatus.IN_REVIEW, PublicationStatus.PUBLISHED},
    ),
}


@transaction.atomic
def change_publication_status(*, records, transition: str, user, via: str) -> int:
    """Move the records through a transition, all or none; return how many changed.

    Records already in the target state, or in a state the transition does not leave from,
    are left as they are. Each change is recorded in the history with the user and `via`.
    """
    target, sources = TRANSITIONS[transition]
    changed = [record for record in records if record.publication_status in sources]
    for record in changed:
        record.publication_status = target
        check_publication_change(user=user, instance=record)
    for record in changed:
        with reversion.create_revision():
            reversion.set_user(user)
            reversion.set_comment(f"{target.label} ({via})")
            record.save()
    return len(changed)
