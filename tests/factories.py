import datetime
import importlib
import io

import factory
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory
from PIL import Image

from policy.models import (
    Actor,
    ActorKind,
    Article,
    Authorship,
    Commitment,
    CommitmentKind,
    Country,
    Event,
    FocusArea,
    Keyword,
    Person,
    Project,
    PublicationStatus,
    Region,
    SourceQuote,
    StatusUpdate,
)


def image_upload(name="photo.png", *, size=(40, 30), image_format="PNG"):
    """A small, valid image file as a browser would upload it."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 120)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{image_format.lower()}")


class CountryFactory(DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("iso_code",)

    name = factory.Sequence(lambda n: f"Country {n}")
    slug = factory.Sequence(lambda n: f"country-{n}")
    iso_code = factory.Iterator(["BR", "AR", "PE", "CL", "UY", "CO", "BO", "MX"])
    region = Region.SOUTH_AMERICA


class ActorFactory(DjangoModelFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Actor {n}")
    slug = factory.Sequence(lambda n: f"actor-{n}")
    kind = ActorKind.GOVERNMENT


class ArticleFactory(DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    publication_date = datetime.date(2025, 11, 5)
    body = "First paragraph with a pledge of 500 scholarships.\n\nSecond paragraph."
    publication_status = PublicationStatus.PUBLISHED


class FocusAreaFactory(DjangoModelFactory):
    class Meta:
        model = FocusArea

    name = factory.Sequence(lambda n: f"Focus area {n}")
    slug = factory.Sequence(lambda n: f"focus-area-{n}")
    order = factory.Sequence(lambda n: n)
    publication_status = PublicationStatus.PUBLISHED


class CommitmentFactory(DjangoModelFactory):
    class Meta:
        model = Commitment

    title = factory.Sequence(lambda n: f"Commitment {n}")
    slug = factory.Sequence(lambda n: f"commitment-{n}")
    kind = CommitmentKind.SCHOLARSHIPS
    publication_status = PublicationStatus.PUBLISHED


class SourceQuoteFactory(DjangoModelFactory):
    class Meta:
        model = SourceQuote

    commitment = factory.SubFactory(CommitmentFactory)
    article = factory.SubFactory(ArticleFactory)
    text = "First paragraph with a pledge of 500 scholarships."


class StatusUpdateFactory(DjangoModelFactory):
    class Meta:
        model = StatusUpdate

    commitment = factory.SubFactory(CommitmentFactory)
    date = datetime.date(2025, 11, 5)
    status = "in_the_works"
    note = "Work has begun."
    source_url = "https://example.org/report"


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    slug = factory.Sequence(lambda n: f"person-{n}")


class AuthorshipFactory(DjangoModelFactory):
    class Meta:
        model = Authorship

    article = factory.SubFactory(ArticleFactory)
    person = factory.SubFactory(PersonFactory)
    affiliation = "Founder of a think tank"


class KeywordFactory(DjangoModelFactory):
    class Meta:
        model = Keyword

    name = factory.Sequence(lambda n: f"Keyword {n}")
    slug = factory.Sequence(lambda n: f"keyword-{n}")


class EventFactory(DjangoModelFactory):
    class Meta:
        model = Event

    name = factory.Sequence(lambda n: f"Ministerial meeting {n}")
    slug = factory.Sequence(lambda n: f"ministerial-meeting-{n}")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


_EDITORIAL_GROUPS = importlib.import_module("policy.migrations.0002_editorial_groups")
EDITORIAL_PERMISSIONS = {
    "Editor": _EDITORIAL_GROUPS.EDITOR,
    "Publisher": _EDITORIAL_GROUPS.PUBLISHER,
}


def editorial_group(name):
    """The group as the data migration makes it; made again when the flush after a
    transactional test (the browser's, a live server's) has taken it with the other rows."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="policy", codename__in=EDITORIAL_PERMISSIONS[name]
            )
        )
    return group
