"""Multi-step writes that must happen together or not at all."""

import hashlib
from contextlib import contextmanager
from typing import Any

import reversion
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import slugify

from policy.importing import ParsedArticle
from policy.models import (
    Actor,
    ActorKind,
    Article,
    Authorship,
    Commitment,
    ContentLanguage,
    Keyword,
    Person,
    PublicationStatus,
    Publishable,
    SourceQuote,
    StatusUpdate,
)
from policy.workflow import check_not_stale, check_publication_change


def _slug_for(text, *, max_length):
    slug = slugify(text)[:max_length].strip("-")
    if slug:
        return slug
    # Names in scripts slugify() cannot transliterate (Chinese, for one) get a stable digest.
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _named_record(model, name, *, role, **defaults):
    """The record with the slug of `name`, or else that name, or else a new one, validated.

    Names that differ only in case or punctuation ("Example Wire", "example-wire") share a slug
    and so name one record. A new record's problems are `role`'s: "keyword", "publisher".
    """
    slug = _slug_for(name, max_length=model._meta.get_field("slug").max_length)
    record = model.objects.filter(slug=slug).first() or model.objects.filter(name=name).first()
    if record is None:
        record = model(name=name, slug=slug, **defaults)
        try:
            record.full_clean()
        except ValidationError as error:
            raise ValidationError({role: error.messages}) from None
        record.save()
    return record


@transaction.atomic
def import_article(
    *, parsed: ParsedArticle, language: str = ContentLanguage.ENGLISH
) -> tuple[Article, bool]:
    """Create or update the article with the parsed headline; return it and whether it is new.

    A second import of the same headline updates the article in place and keeps its
    publication status, so re-running an import never duplicates or unpublishes anything.
    """
    publisher = _named_record(Actor, parsed.publisher, role="publisher", kind=ActorKind.MEDIA)
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
        person = _named_record(Person, name, role="author")
        authorship = article.authorships.filter(person=person).first() or Authorship(
            article=article, person=person
        )
        authorship.affiliation, authorship.order = parsed.affiliation, order
        authorship.full_clean()
        authorship.save()
        authors.append(person)
    article.authorships.exclude(person__in=authors).delete()

    article.keywords.set(_named_record(Keyword, name, role="keyword") for name in parsed.keywords)
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
    changed = []
    for record in records:
        # Locked and read again: an edit saved since the record was loaded is kept, not undone.
        record.refresh_from_db(from_queryset=type(record).objects.select_for_update())
        if record.publication_status in sources:
            changed.append(record)
    for record in changed:
        record.publication_status = target
        check_publication_change(user=user, instance=record)
    for record in changed:
        with reversion.create_revision():
            reversion.set_user(user)
            reversion.set_comment(f"{target.label} ({via})")
            record.save()
    return len(changed)


@transaction.atomic
def save_record(*, record: models.Model, changes: dict[str, Any], user, via: str) -> models.Model:
    """Create the record or change it with validated values, by the admin's rules, with history.

    A versioned record is locked and must still be at the version it was loaded at (StaleEdit),
    so that two writes never build on the same version. The user's role must allow the change
    of publication state (WorkflowPermissionDenied), and the model must validate
    (ValidationError). Related lists are set after the save.
    """
    adding = record._state.adding
    if isinstance(record, Publishable) and not adding:
        check_not_stale(instance=record, loaded_version=record.version)
    related = {}
    for name, value in changes.items():
        if record._meta.get_field(name).many_to_many:
            related[name] = value
        else:
            setattr(record, name, value)
    if isinstance(record, Publishable):
        check_publication_change(user=user, instance=record)
    record.full_clean()
    with reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(f"{'Created' if adding else 'Changed'} via {via}")
        record.save()
        for name, values in related.items():
            getattr(record, name).set(values)
    return record


@transaction.atomic
def delete_record(*, record: models.Model, user, via: str) -> None:
    """Delete the record; a versioned one keeps its last state in history, to be recovered.

    A record that others point to is not deleted (ProtectedError).
    """
    if isinstance(record, Publishable):
        check_not_stale(instance=record, loaded_version=record.version)
    if reversion.is_registered(type(record)):
        with reversion.create_revision():
            reversion.set_user(user)
            reversion.set_comment(f"Deleted via {via}")
            reversion.add_to_revision(record)
    record.delete()


@contextmanager
def _changing_parts_of(commitment, *, user, comment):
    """Count a change of a commitment's quotes or status updates as a change of the commitment.

    As when the admin saves its inlines, the commitment gets a new version, and its history
    the state of all its parts.
    """
    check_not_stale(instance=commitment, loaded_version=commitment.version)
    with reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(comment)
        yield
        commitment.save(update_fields=["version", "updated_at"])


@transaction.atomic
def add_status_update(
    *, commitment: Commitment, fields: dict[str, Any], user, via: str
) -> StatusUpdate:
    """Record a dated status of the commitment, which becomes its current one if the latest.

    Editors may add one to a published commitment, as in the admin.
    """
    update = StatusUpdate(commitment=commitment, **fields)
    update.full_clean()
    with _changing_parts_of(commitment, user=user, comment=f"Status update added via {via}"):
        update.save()
    return update


@transaction.atomic
def add_source_quote(
    *, commitment: Commitment, fields: dict[str, Any], user, via: str
) -> SourceQuote:
    """Add a verbatim quote of an article to the commitment, unless it is locked for the user."""
    # The commitment itself is unchanged: the check refuses exactly when it is locked.
    check_publication_change(user=user, instance=commitment)
    quote = SourceQuote(commitment=commitment, **fields)
    quote.full_clean()
    with _changing_parts_of(commitment, user=user, comment=f"Quote added via {via}"):
        quote.save()
    return quote


@transaction.atomic
def remove_source_quote(*, quote: SourceQuote, user, via: str) -> None:
    """Remove a quote from its commitment, unless the commitment is locked for the user."""
    commitment = quote.commitment
    check_publication_change(user=user, instance=commitment)
    with _changing_parts_of(commitment, user=user, comment=f"Quote removed via {via}"):
        quote.delete()
