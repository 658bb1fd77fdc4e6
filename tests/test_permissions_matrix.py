"""Who reaches what: every URL, for every role, on published and unpublished records.

The URLs come from the resolver itself: the public site under each language prefix, the API's
router, the admin's own URLs and those of every model it registers. Each pattern is filled from
real records: a published, a draft and a scheduled one of each publishable model, linked to each
other and to reference records along every path a draft could leak through. A pattern the matrix
cannot classify fails `test_every_url_pattern_is_in_the_matrix`, so a new URL joins the matrix
deliberately, with the answers it must give.

Every unpublished or deleted record has a word of its own in its title, texts, quotes and status
notes, a slug of its own, and its image a random file name: its secrets. No response to a role
that may not see the record contains one, in its body or its Location, unless the request named
it. Where a role may see the record, the page must show its word, so that the matrix cannot pass
by showing nothing.
"""

import datetime
import importlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import quote, urlencode

import pytest
import reversion
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import (
    LocalePrefixPattern,
    URLResolver,
    clear_url_caches,
    get_resolver,
    resolve,
    reverse,
)
from django.utils import timezone, translation
from django.views.static import serve
from rest_framework.authtoken.models import Token
from reversion.models import Version

import config.urls
from policy.models import (
    PUBLISHABLE_MODELS,
    Actor,
    Article,
    Commitment,
    Country,
    Event,
    FocusArea,
    Illustrated,
    Keyword,
    Person,
    Project,
    PublicationStatus,
)
from policy.preview import SESSION_KEY
from policy.sitemaps import SITEMAPS
from tests.admin_forms import admin_url, change_form_data
from tests.factories import (
    ActorFactory,
    ArticleFactory,
    AuthorshipFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    KeywordFactory,
    PersonFactory,
    ProjectFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
    editorial_group,
    image_upload,
)

pytestmark = pytest.mark.django_db

ROLES = ANONYMOUS, MEMBER, STAFF, EDITOR, PUBLISHER, SUPERUSER = (
    "anonymous",
    "member",  # signed in, not staff
    "staff",  # staff, in no group and without permissions
    "editor",
    "publisher",
    "superuser",
)
# The roles that may view the content in the admin, preview it and open its drafts.
VIEWERS = {EDITOR, PUBLISHER, SUPERUSER}
PUBLISHERS = {PUBLISHER, SUPERUSER}

STATES = PUBLISHED, DRAFT, SCHEDULED = ("published", "draft", "scheduled")
UNPUBLISHED = (DRAFT, SCHEDULED)
# The admin goes by the publication status, which a scheduled record shares with a published one.
ADMIN_STATES = (PUBLISHED, DRAFT)
LATER = datetime.timedelta(days=30)
FACTORIES = {Article: ArticleFactory, Commitment: CommitmentFactory, FocusArea: FocusAreaFactory}
LABEL_FIELDS = {Article: "title", Commitment: "title", FocusArea: "name"}
# A word in every record's title, to search for.
SEARCH_TERM = "cooperation"

PUBLIC, API, ADMIN = "public site", "API", "admin"
# 302 to the admin's login page.
LOGIN = "login"
# The superuser's own business: any answer but the login page or a server error.
ANY = "any"


def answers(*statuses):
    """The answer each role must get, in the order of ROLES."""
    return dict(zip(ROLES, statuses, strict=True))


EVERYONE = answers(200, 200, 200, 200, 200, 200)


# The records


def state_fields(state):
    if state == DRAFT:
        return {"publication_status": PublicationStatus.DRAFT}
    # A scheduled record is published, but not yet: hidden like a draft, locked like a published
    # one.
    publish_at = timezone.now() + LATER if state == SCHEDULED else None
    return {"publication_status": PublicationStatus.PUBLISHED, "publish_at": publish_at}


def publication_state(record):
    """The record's state as the matrix names it, or its status when it has left them."""
    if not type(record).objects.filter(pk=record.pk).exists():
        return "deleted"
    record = type(record).objects.get(pk=record.pk)
    if record.publication_status == PublicationStatus.PUBLISHED:
        return SCHEDULED if record.publish_at else PUBLISHED
    return record.publication_status


def word_for(model, state, *, deleted=False):
    """The word in every text of a record. Those of unpublished and deleted records are secrets."""
    if state == PUBLISHED and not deleted:
        return f"open{model._meta.model_name}"
    return f"{'gone' if deleted else 'hush'}{state}{model._meta.model_name}"


def sentence(word):
    return f"The {word} pledge of 500 scholarships."


def make_record(model, state, *, word=None, **fields):
    word = word or word_for(model, state)
    texts = {
        Article: {"body": f"{sentence(word)}\n\nSecond paragraph."},
        Commitment: {"description": f"About {word}."},
        FocusArea: {"description": f"About {word}."},
    }[model]
    return FACTORIES[model](
        **{LABEL_FIELDS[model]: f"{SEARCH_TERM.title()} {word}"},
        # Unlike its word: a secret in the requested path is no secret in the answer.
        slug=f"{state}-{model._meta.model_name}-{word[::-1]}",
        **texts,
        **state_fields(state),
        **fields,
    )


@dataclass
class World:
    records: dict  # {model: {state: record}}
    deleted_versions: dict  # {model: {state: the version that recovers the record}}
    users: dict  # {role: user}
    reference: dict  # {model: record}
    secrets: dict = field(default_factory=dict)  # {secret: the record it belongs to}

    def secrets_of(self, record):
        return {secret for secret, owner in self.secrets.items() if owner == record}


def make_users():
    user_model = Group.user_set.field.model
    users = {
        ANONYMOUS: None,
        MEMBER: user_model.objects.create_user("member"),
        STAFF: user_model.objects.create_user("staff", is_staff=True),
        EDITOR: user_model.objects.create_user("editor", is_staff=True),
        PUBLISHER: user_model.objects.create_user("publisher", is_staff=True),
        SUPERUSER: user_model.objects.create_superuser("root"),
    }
    users[EDITOR].groups.add(editorial_group("Editor"))
    users[PUBLISHER].groups.add(editorial_group("Publisher"))
    return users


def save_versions(record, count=1):
    for _ in range(count):
        with reversion.create_revision():
            record.save()


def build_world():
    records = {
        model: {
            state: make_record(
                model,
                state,
                **(
                    {"image": image_upload(), "image_alt": "A photograph."}
                    if issubclass(model, Illustrated)
                    else {}
                ),
            )
            for state in STATES
        }
        for model in PUBLISHABLE_MODELS
    }
    articles, commitments, areas = records[Article], records[Commitment], records[FocusArea]
    country = CountryFactory(iso_code="BR", slug="brazil")
    actor = ActorFactory()
    person = PersonFactory()
    keyword = KeywordFactory()

    # Every way a published record points to unpublished ones.
    public = commitments[PUBLISHED]
    public.focus_areas.set(areas.values())
    public.part_of = commitments[SCHEDULED]
    public.announced_at = EventFactory(
        source_article=articles[SCHEDULED],
        source_quote=sentence(word_for(Article, SCHEDULED)),
    )
    public.save()
    commitments[DRAFT].part_of = public
    commitments[DRAFT].save()
    for state, article in articles.items():
        AuthorshipFactory(article=article, person=person)
        article.keywords.add(keyword)
        quoted = sentence(word_for(Article, state))
        SourceQuoteFactory(commitment=public, article=article, text=quoted)
        StatusUpdateFactory(commitment=public, source_article=article, source_quote=quoted)
    for state, commitment in commitments.items():
        commitment.countries.add(country)
        commitment.parties.add(actor)
        if state != PUBLISHED:
            commitment.focus_areas.add(areas[PUBLISHED])
            SourceQuoteFactory(
                commitment=commitment,
                article=articles[PUBLISHED],
                text=sentence(word_for(Article, PUBLISHED)),
            )
            StatusUpdateFactory(
                commitment=commitment, note=f"Progress on {word_for(Commitment, state)}."
            )
    areas[PUBLISHED].source_article = articles[DRAFT]
    areas[PUBLISHED].source_quote = sentence(word_for(Article, DRAFT))
    areas[PUBLISHED].save()
    actor.source_article = articles[DRAFT]
    actor.save()
    project = ProjectFactory(source_article=articles[DRAFT], country=country)
    project.focus_areas.set(areas.values())

    # Two versions of each record, to compare and to revert to.
    for by_state in records.values():
        for record in by_state.values():
            save_versions(record, count=2)

    deleted_versions = {model: {} for model in PUBLISHABLE_MODELS}
    for model in PUBLISHABLE_MODELS:
        for state in ADMIN_STATES:
            record = make_record(model, state, word=word_for(model, state, deleted=True))
            deleted_versions[model][state] = snapshot_and_delete(record)

    users = make_users()
    # A row for the token admin's pages.
    Token.objects.create(user=users[EDITOR])

    world = World(
        records=records,
        deleted_versions=deleted_versions,
        users=users,
        reference={
            Country: country,
            Actor: actor,
            Person: person,
            Keyword: keyword,
            Event: public.announced_at,
            Project: project,
        },
    )
    for model, by_state in records.items():
        for state in UNPUBLISHED:
            record = by_state[state]
            world.secrets[word_for(model, state)] = record
            world.secrets[record.slug] = record
            if issubclass(model, Illustrated):
                world.secrets[PurePath(record.image.name).stem] = record
        for state, version in deleted_versions[model].items():
            world.secrets[word_for(model, state, deleted=True)] = version
    return world


def snapshot_and_delete(record):
    """Delete the record as the admin does, keeping a version to recover it from."""
    pk = record.pk
    save_versions(record)
    record.delete()
    return Version.objects.get_deleted(type(record)).get(object_id=str(pk))


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def unthrottled(settings):
    # The matrix asks more in a second than a client may in a minute.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }


def client_for(user, *, preview=False):
    """A client signed in as the user; with preview, the session asks for the preview of drafts.

    For whoever may not preview, that flag is forged, and must do nothing.
    """
    client = Client()
    if user is not None:
        client.force_login(user)
    if preview:
        session = client.session
        session[SESSION_KEY] = True
        session.save()
    return client


# The URL patterns


@dataclass(frozen=True)
class Route:
    """A URL pattern, after the patterns of the resolvers above it."""

    patterns: tuple
    name: str
    callback: object

    @property
    def text(self):
        """The route as the resolver matches it, with the language prefix of the active language."""
        return "".join(str(pattern) for pattern in self.patterns)

    @property
    def translated(self):
        return any(isinstance(pattern, LocalePrefixPattern) for pattern in self.patterns)

    def __str__(self):
        return f"{self.name or '(unnamed)'}: {self.text}"


def routes():
    """Every URL pattern the resolver knows."""

    def walk(resolver, above, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, [namespace, entry.namespace]))
                yield from walk(entry, (*above, entry.pattern), inner)
            else:
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                yield Route((*above, entry.pattern), name or "", entry.callback)

    return list(walk(get_resolver(), (), ""))


# A converter, such as <slug:slug>, or a group of a regular expression.
PLACEHOLDER = re.compile(r"<(?:\w+:)?\w+>|\((?:\?P<\w+>)?[^()]*\)")


def build_path(route, values):
    """The route's path with the values in its placeholders, in order; it must resolve to it."""
    values = iter(values)
    filled = PLACEHOLDER.sub(lambda match: quote(str(next(values))), route.text)
    path = "/" + re.sub(r"\\(.)", r"\1", filled.replace("^", "").replace("$", ""))
    assert next(values, None) is None, f"{route} has fewer placeholders than values"
    assert resolve(path).func is route.callback, f"{path} does not resolve to {route}"
    return path


# The matrix: what each kind of URL is, how to fill it, and what each role gets from it


@dataclass(frozen=True)
class Entry:
    """A URL pattern's place in the matrix.

    `cases` are what the pattern is requested for, such as the states of its record. For a case,
    `fill` gives the values of the placeholders and `query` the query string; `record` is the
    record the page is about. Whoever may see unpublished records must find those of the `lists`
    models on the page.
    """

    area: str
    # {role: answer}, or a function of the case that gives one.
    answers: object
    cases: tuple = (None,)
    fill: object = None
    query: object = None
    record: object = None
    lists: tuple = ()
    # Feeds, the sitemap, the API's schema: never an unpublished record, even in preview.
    public_only: bool = False
    # A record's own page or endpoint: 404 while unpublished, to whoever may not see it.
    hides_unpublished: bool = False

    def answer(self, role, case, *, may_see):
        if self.hides_unpublished and case in UNPUBLISHED and not may_see:
            return 404
        return (self.answers(case) if callable(self.answers) else self.answers)[role]

    def path(self, route, world, case):
        return build_path(route, self.fill(world, case) if self.fill else ())

    def query_string(self, world, case):
        return (self.query(world, case) if callable(self.query) else self.query) or {}


def by_state(model):
    return lambda world, state: world.records[model][state]


def slug_by_state(model):
    return lambda world, state: (world.records[model][state].slug,)


def reference_slug(model):
    return lambda world, case: (world.reference[model].slug,)


def record_entry(area, model):
    return Entry(
        area,
        EVERYONE,
        cases=STATES,
        fill=slug_by_state(model),
        record=by_state(model),
        hides_unpublished=True,
    )


def public_entries():
    return {
        "policy:home": Entry(PUBLIC, EVERYONE),
        "policy:article_list": Entry(PUBLIC, EVERYONE, lists=(Article,)),
        "policy:commitment_list": Entry(PUBLIC, EVERYONE, lists=(Commitment,)),
        "policy:focusarea_list": Entry(PUBLIC, EVERYONE, lists=(FocusArea,)),
        "policy:country_list": Entry(PUBLIC, EVERYONE),
        "policy:article_detail": record_entry(PUBLIC, Article),
        "policy:commitment_detail": record_entry(PUBLIC, Commitment),
        "policy:focusarea_detail": record_entry(PUBLIC, FocusArea),
        "policy:country_detail": Entry(
            PUBLIC, EVERYONE, fill=reference_slug(Country), lists=(Commitment,)
        ),
        "policy:search": Entry(
            PUBLIC, EVERYONE, query={"q": SEARCH_TERM}, lists=(Article, Commitment, FocusArea)
        ),
        # Preview is switched on and off with a POST: test_only_viewers_may_switch_preview_on.
        "policy:preview": Entry(PUBLIC, answers(403, 403, 403, 405, 405, 405)),
        "policy:article_feed_rss": Entry(PUBLIC, EVERYONE, public_only=True),
        "policy:article_feed_atom": Entry(PUBLIC, EVERYONE, public_only=True),
        "policy:status_change_feed_rss": Entry(PUBLIC, EVERYONE, public_only=True),
        "policy:status_change_feed_atom": Entry(PUBLIC, EVERYONE, public_only=True),
        "sitemap": Entry(PUBLIC, EVERYONE, public_only=True),
        "sitemap-section": Entry(
            PUBLIC,
            EVERYONE,
            public_only=True,
            cases=tuple(SITEMAPS),
            fill=lambda world, section: (section,),
        ),
        "robots_txt": Entry(PUBLIC, EVERYONE, public_only=True),
    }


# The API's endpoints, by the basename of their routes.
API_RECORDS = {"article": Article, "commitment": Commitment, "focusarea": FocusArea}
API_REFERENCE = {
    "country": Country,
    "actor": Actor,
    "person": Person,
    "event": Event,
    "project": Project,
    "keyword": Keyword,
}


def first_quote(world, state):
    commitment = world.records[Commitment][state]
    return (commitment.slug, commitment.quotes.order_by("pk").first().pk)


def api_entries():
    entries = {
        "api-schema": Entry(API, EVERYONE, public_only=True),
        "api-docs": Entry(API, EVERYONE, public_only=True),
        "api-redoc": Entry(API, EVERYONE, public_only=True),
        # A quote is deleted at its own URL, never read there.
        "api:commitment-quote-detail": Entry(
            API, answers(405, 405, 405, 405, 405, 405), cases=STATES, fill=first_quote
        ),
        "api:commitment-status-update-list": Entry(
            API, EVERYONE, cases=STATES, fill=slug_by_state(Commitment), hides_unpublished=True
        ),
        "api:commitment-quote-list": Entry(
            API, EVERYONE, cases=STATES, fill=slug_by_state(Commitment), hides_unpublished=True
        ),
    }
    for basename, model in API_RECORDS.items():
        entries[f"api:{basename}-list"] = Entry(API, EVERYONE, lists=(model,))
        entries[f"api:{basename}-detail"] = record_entry(API, model)
    for basename, model in API_REFERENCE.items():
        entries[f"api:{basename}-list"] = Entry(API, EVERYONE)
        entries[f"api:{basename}-detail"] = Entry(API, EVERYONE, fill=reference_slug(model))
    return entries


def by_case(table):
    return lambda case: table[case]


# What each role gets from the admin's pages of a model, in the order of ROLES.
# An editor asking for an old version of a published record is sent back to its history.
OLD_VERSIONS = {
    DRAFT: answers(LOGIN, LOGIN, 403, 200, 200, 200),
    PUBLISHED: answers(LOGIN, LOGIN, 403, 302, 200, 200),
}
CONTENT_ADMIN = {
    "changelist": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "add": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    # A published record opens read-only for editors, as the change form tests below show.
    "change": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "history": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "compare": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    # From <id>/ to <id>/change/, which reveals nothing.
    "redirect": answers(LOGIN, LOGIN, 302, 302, 302, 302),
    "delete": answers(LOGIN, LOGIN, 403, 403, 200, 200),
    "recoverlist": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "revision": by_case(OLD_VERSIONS),
    "recover": by_case(OLD_VERSIONS),
    "import": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    # Only the import's confirmation form posts here.
    "process_import": answers(LOGIN, LOGIN, 405, 405, 405, 405),
    "export": answers(LOGIN, LOGIN, 403, 200, 200, 200),
}
REFERENCE_ADMIN = {
    "changelist": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "add": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "change": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "history": answers(LOGIN, LOGIN, 403, 200, 200, 200),
    "redirect": answers(LOGIN, LOGIN, 302, 302, 302, 302),
    "delete": answers(LOGIN, LOGIN, 403, 403, 200, 200),
}
# Users, groups, tokens, and the models of any other app, are the superuser's alone.
SITE_ADMIN = {
    "changelist": answers(LOGIN, LOGIN, 403, 403, 403, ANY),
    "add": answers(LOGIN, LOGIN, 403, 403, 403, ANY),
    "change": answers(LOGIN, LOGIN, 403, 403, 403, ANY),
    "history": answers(LOGIN, LOGIN, 403, 403, 403, ANY),
    "redirect": answers(LOGIN, LOGIN, 302, 302, 302, 302),
    "delete": answers(LOGIN, LOGIN, 403, 403, 403, ANY),
    "password": answers(LOGIN, LOGIN, 403, 403, 403, ANY),
}
REFERENCE_MODELS = (Country, Keyword, Actor, Person, Event, Project)
# The admin's pages of a model, by their route after admin/<app_label>/<model_name>/.
ADMIN_MODEL_VIEWS = {
    "": "changelist",
    "add/": "add",
    "<path:object_id>/change/": "change",
    "<path:object_id>/history/": "history",
    "<path:object_id>/delete/": "delete",
    "<path:object_id>/": "redirect",
    "<str:object_id>/history/compare/": "compare",
    "^([^/]+)/history/(\\d+)/$": "revision",
    "^recover/$": "recoverlist",
    "^recover/(\\d+)/$": "recover",
    "import/": "import",
    "process_import/": "process_import",
    "export/": "export",
    "<id>/password/": "password",
}


def versions_of(record):
    return Version.objects.get_for_object(record).order_by("pk")


def content_admin_entry(model, view):
    if view in ("changelist", "add", "recoverlist", "import", "process_import", "export"):
        return Entry(ADMIN, CONTENT_ADMIN[view], lists=(model,) if view == "changelist" else ())
    record = by_state(model)
    fills = {
        "revision": lambda world, state: (
            record(world, state).pk,
            versions_of(record(world, state)).first().pk,
        ),
        "recover": lambda world, state: (world.deleted_versions[model][state].pk,),
    }
    compared = {
        "query": lambda world, state: {
            "version_id1": versions_of(record(world, state)).first().pk,
            "version_id2": versions_of(record(world, state)).last().pk,
        }
    }
    return Entry(
        ADMIN,
        CONTENT_ADMIN[view],
        cases=ADMIN_STATES,
        fill=fills.get(view, lambda world, state: (record(world, state).pk,)),
        record=None if view in ("redirect", "recover") else record,
        **(compared if view == "compare" else {}),
    )


def site_admin_row(model):
    """The key of a row of a model of another app: the first, or a new one of blank values.

    A model whose fields need more fails here, to be given a row of its own.
    """

    def fill(world, case):
        row = model._default_manager.order_by("pk").first() or model._default_manager.create(
            **{
                each.name: 0
                for each in model._meta.concrete_fields
                if isinstance(each, models.IntegerField)
                and not (each.primary_key or each.null or each.has_default())
            }
        )
        # The token admin finds a token by its user.
        return (row.user_id if isinstance(row, Token) else row.pk,)

    return fill


def admin_model_entry(model, view):
    """The entry of an admin page of a model, or None when the matrix does not know the page."""
    if model in PUBLISHABLE_MODELS:
        return content_admin_entry(model, view) if view in CONTENT_ADMIN else None
    if model in REFERENCE_MODELS:
        table, fill = REFERENCE_ADMIN, lambda world, case: (world.reference[model].pk,)
    elif model._meta.app_label != "policy":
        table, fill = SITE_ADMIN, site_admin_row(model)
    else:
        return None
    if view not in table:
        return None
    return Entry(ADMIN, table[view], fill=None if view in ("changelist", "add") else fill)


def admin_site_entries():
    return {
        "admin:index": Entry(ADMIN, answers(LOGIN, LOGIN, 200, 200, 200, 200)),
        "admin:login": Entry(ADMIN, answers(200, 200, 302, 302, 302, 302)),
        # Logging out takes a POST; the admin sends whoever is not staff to its index.
        "admin:logout": Entry(ADMIN, answers(302, 302, 405, 405, 405, 405)),
        "admin:password_change": Entry(ADMIN, answers(LOGIN, LOGIN, 200, 200, 200, 200)),
        "admin:password_change_done": Entry(ADMIN, answers(LOGIN, LOGIN, 200, 200, 200, 200)),
        "admin:jsi18n": Entry(ADMIN, answers(LOGIN, LOGIN, 200, 200, 200, 200)),
        "admin:autocomplete": Entry(
            ADMIN,
            answers(LOGIN, LOGIN, 403, 200, 200, 200),
            query={
                "app_label": "policy",
                "model_name": "commitment",
                "field_name": "part_of",
                "term": SEARCH_TERM,
            },
            lists=(Commitment,),
        ),
        # Django's shortcut sends any staff user to a record's page: VIEW_ON_SITE_REVEALS_SLUGS.
        "admin:view_on_site": Entry(
            ADMIN,
            answers(LOGIN, LOGIN, 302, 302, 302, 302),
            cases=tuple((model, state) for model in PUBLISHABLE_MODELS for state in ADMIN_STATES),
            fill=lambda world, case: (
                ContentType.objects.get_for_model(case[0]).pk,
                world.records[case[0]][case[1]].pk,
            ),
        ),
        "admin:app_list": Entry(
            ADMIN,
            lambda app_label: (
                answers(LOGIN, LOGIN, 404, 200, 200, 200)
                if app_label == "policy"
                else answers(LOGIN, LOGIN, 404, 404, 404, 200)
            ),
            cases=tuple(sorted({model._meta.app_label for model in admin.site._registry})),
            fill=lambda world, app_label: (app_label,),
        ),
        "admin/(?P<url>.*)$": Entry(
            ADMIN,
            answers(LOGIN, LOGIN, 404, 404, 404, 404),
            fill=lambda world, case: ("nowhere/",),
        ),
    }


def admin_model_of(route):
    """The model whose admin pages the route is one of, or None."""
    if len(route.patterns) != 3 or route.name == "admin:app_list":
        return None
    prefixes = {
        f"admin/{model._meta.app_label}/{model._meta.model_name}/": model
        for model in admin.site._registry
    }
    return prefixes.get(f"{route.patterns[0]}{route.patterns[1]}")


def classify(route):
    """The route's entry in the matrix, or None when the matrix does not know the route."""
    if route.callback is serve:
        return Entry(PUBLIC, EVERYONE, fill=lambda world, case: (uploaded_image_of_a_draft(world),))
    if model := admin_model_of(route):
        view = ADMIN_MODEL_VIEWS.get(str(route.patterns[2]))
        return admin_model_entry(model, view) if view else None
    entries = {**public_entries(), **api_entries(), **admin_site_entries()}
    return entries.get(route.name or route.text)


def uploaded_image_of_a_draft(world):
    return world.records[Article][DRAFT].image.name


# Asking


@dataclass(frozen=True)
class Variant:
    """One way of asking for a URL."""

    label: str
    query: dict = field(default_factory=dict)
    # The session asks for the preview of drafts: staff's preview, or a forged flag.
    preview: bool = False
    include_unpublished: bool = False


INCLUDE = {"include_unpublished": "true"}
API_RECORD_VARIANTS = (
    # The API ignores the site's preview: drafts only when asked for.
    Variant("", preview=True),
    Variant("", INCLUDE, preview=True, include_unpublished=True),
)
API_LIST_VARIANTS = (
    *API_RECORD_VARIANTS,
    Variant("", {**INCLUDE, "format": "csv"}, preview=True, include_unpublished=True),
    # The browsable API, whose filter forms name records.
    Variant("", {**INCLUDE, "format": "api"}, preview=True, include_unpublished=True),
)


def variants(entry, role):
    if entry.area == ADMIN:
        return (Variant(""),)
    if entry.area == API and not entry.public_only:
        return API_LIST_VARIANTS if entry.lists else API_RECORD_VARIANTS
    if entry.area == API:
        return (Variant(""),)
    if role in VIEWERS:
        return (Variant(""), Variant(" in preview", preview=True))
    return (Variant(" with a forged preview flag", preview=True),)


def may_see_unpublished(entry, role, variant):
    """Whether the request may see unpublished records, by what it asks for and who asks."""
    if entry.public_only or role not in VIEWERS:
        return False
    return entry.area != API or variant.include_unpublished


def allowed_secrets(world, entry, role, case, variant):
    if not may_see_unpublished(entry, role, variant):
        return set()
    if entry.area != PUBLIC or variant.preview:
        return set(world.secrets)
    # Staff open a draft's own page outside preview; the records it points to stay hidden.
    return world.secrets_of(entry.record(world, case)) if entry.record else set()


def required_words(world, entry, case, allowed):
    """The words a page that answers 200 must show: its record's, and the records it lists."""
    words = set()
    if entry.record:
        record = entry.record(world, case)
        word = word_for(type(record), case)
        words |= {word} if case == PUBLISHED or word in allowed else set()
    for model in entry.lists:
        words |= {word_for(model, PUBLISHED)}
        words |= {word_for(model, state) for state in UNPUBLISHED} & allowed
    return words


def answered_as_expected(response, expected):
    location = response.get("Location", "")
    to_login = response.status_code == 302 and location.startswith(
        f"{reverse('admin:login')}?next="
    )
    if expected == LOGIN:
        return to_login
    if expected == ANY:
        return response.status_code < 500 and not to_login
    return response.status_code == expected


def content_of(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode(errors="replace")


def check(response, *, expected, secrets, allowed, required, request):
    """What is wrong with the response, as sentences."""
    problems = []
    location = response.get("Location", "")
    if not answered_as_expected(response, expected):
        problems.append(f"{request}: {response.status_code} {location}, expected {expected}")
    text = f"{location}\n{content_of(response)}".lower()
    named = request.lower()
    leaked = sorted(
        secret
        for secret in secrets
        if secret not in allowed and secret not in named and secret in text
    )
    if leaked:
        problems.append(f"{request}: shows {', '.join(leaked)}")
    if response.status_code == 200 and (missing := sorted(w for w in required if w not in text)):
        problems.append(f"{request}: does not show {', '.join(missing)}")
    return problems


# Staff without a permission learn the URL of a record's page from the admin's view_on_site, which
# Django does not check permissions for. The slug is all it reveals: the page is a 404 for them.
VIEW_ON_SITE_REVEALS_SLUGS = {("admin:view_on_site", STAFF)}


def run_matrix(world, area):
    """Ask for every URL of the area as every role; return the problems and how many were asked."""
    problems, asked = [], 0
    for role in ROLES:
        user = world.users[role]
        clients = {preview: client_for(user, preview=preview) for preview in (False, True)}
        for route in routes():
            entry = classify(route)
            if entry is None or entry.area != area or route.callback is serve:
                continue
            # Anonymous visitors read every language; staff, the default one.
            languages = [code for code, _ in settings.LANGUAGES] if route.translated else [None]
            for case in entry.cases:
                for language in languages if role == ANONYMOUS else languages[:1]:
                    with translation.override(language):
                        path = entry.path(route, world, case)
                    for variant in variants(entry, role):
                        query = {**entry.query_string(world, case), **variant.query}
                        response = clients[variant.preview].get(path, query)
                        asked += 1
                        allowed = allowed_secrets(world, entry, role, case, variant)
                        if (route.name, role) in VIEW_ON_SITE_REVEALS_SLUGS:
                            allowed |= {
                                getattr(owner, "slug", "") for owner in world.secrets.values()
                            }
                        problems += check(
                            response,
                            expected=entry.answer(
                                role, case, may_see=may_see_unpublished(entry, role, variant)
                            ),
                            secrets=world.secrets,
                            allowed=allowed,
                            required=required_words(world, entry, case, allowed),
                            request=f"GET {path}?{urlencode(query)} as {role}{variant.label}",
                        )
    return problems, asked


@pytest.mark.usefixtures("unthrottled")
@pytest.mark.parametrize("area", [PUBLIC, API, ADMIN])
def test_every_url_answers_every_role_as_the_matrix_says(world, area):
    problems, asked = run_matrix(world, area)

    assert asked
    assert not problems, f"{len(problems)} of {asked} answers are wrong:\n" + "\n".join(problems)


@contextmanager
def urls_serving_media(settings, serve_media):
    """The URLs as the settings build them; with SERVE_MEDIA, as `make serve` does."""
    settings.SERVE_MEDIA = serve_media
    importlib.reload(config.urls)
    clear_url_caches()
    try:
        yield
    finally:
        settings.SERVE_MEDIA = False
        importlib.reload(config.urls)
        clear_url_caches()


@pytest.mark.parametrize("serve_media", [False, True], ids=["usual URLs", "URLs of make serve"])
def test_every_url_pattern_is_in_the_matrix(settings, serve_media):
    with urls_serving_media(settings, serve_media):
        unknown = [str(route) for route in routes() if classify(route) is None]

    assert not unknown, "Add these URLs to the matrix, with what each role gets:\n" + "\n".join(
        unknown
    )


def test_every_publishable_model_is_in_the_matrix():
    assert set(FACTORIES) == set(LABEL_FIELDS) == set(PUBLISHABLE_MODELS)


def test_images_of_unpublished_records_are_reachable_only_by_their_random_names(world, settings):
    """Uploads are public by URL: `make serve` and object storage give any file to whoever asks.

    An image of a draft stays private as long as its URL does: its name is random, no public
    answer gives it (the matrix checks every one), and no folder is listed.
    """
    draft = world.records[Article][DRAFT]
    with urls_serving_media(settings, True):
        route = next(route for route in routes() if route.callback is serve)
        entry = classify(route)
        for role in ROLES:
            response = client_for(world.users[role]).get(entry.path(route, world, None))
            assert answered_as_expected(response, entry.answer(role, None, may_see=False)), role
        folder = Client().get(f"/{settings.MEDIA_URL}images/article/")
        guessed = Client().get(f"/{settings.MEDIA_URL}images/article/{draft.slug}.png")

    assert re.fullmatch(r"images/article/[0-9a-f]{32}\.png", draft.image.name)
    assert (folder.status_code, guessed.status_code) == (404, 404)


# Changes through the admin: who may publish, edit, revert, recover and delete


@pytest.fixture
def users():
    return make_users()


def label_of(record):
    return getattr(type(record).objects.get(pk=record.pk), LABEL_FIELDS[type(record)])


def outcome(record):
    """What a change left of the record: its state and label, or that it is gone."""
    state = publication_state(record)
    return (state, label_of(record)) if state != "deleted" else (state, None)


def refused_answer(role):
    """What the admin answers whoever may not open the change, before any form is shown."""
    return {ANONYMOUS: LOGIN, MEMBER: LOGIN, STAFF: 403}[role]


# The actions of the change list, by the state they leave a record in when they are allowed.
ACTIONS = {
    "submit_for_review": {DRAFT: PublicationStatus.IN_REVIEW, PUBLISHED: PUBLISHED},
    "publish": {DRAFT: PUBLISHED, PUBLISHED: PUBLISHED},
    "unpublish": {DRAFT: DRAFT, PUBLISHED: DRAFT},
    "archive": {DRAFT: PublicationStatus.ARCHIVED, PUBLISHED: PublicationStatus.ARCHIVED},
    "delete_selected": {DRAFT: "deleted", PUBLISHED: "deleted"},
}
# Which roles may take each action: editors only submit drafts for review.
ACTION_ROLES = {
    "submit_for_review": VIEWERS,
    "publish": PUBLISHERS,
    "unpublish": PUBLISHERS,
    "archive": PUBLISHERS,
    "delete_selected": PUBLISHERS,
}


def test_the_matrix_knows_every_bulk_action():
    for model in PUBLISHABLE_MODELS:
        model_admin = admin.site._registry[model]
        actions = {name for _, name, _ in model_admin._get_base_actions()}
        assert actions == set(ACTIONS), model


@pytest.mark.parametrize("model", PUBLISHABLE_MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("action", ACTIONS)
def test_bulk_actions_change_only_what_the_role_may(users, model, action):
    problems = []
    for role in ROLES:
        for state in ADMIN_STATES:
            record = make_record(model, state, word=f"{role}{state}{action}")
            before = outcome(record)
            response = client_for(users[role]).post(
                admin_url(model, "changelist"),
                {"action": action, "_selected_action": [record.pk], "post": "yes"},
            )
            allowed = role in ACTION_ROLES[action]
            expected_state = ACTIONS[action][state] if allowed else before[0]
            expected = 302 if role in VIEWERS else refused_answer(role)
            if not answered_as_expected(response, expected):
                problems.append(f"{action} on {state} as {role}: {response.status_code}")
            if publication_state(record) != expected_state:
                problems.append(
                    f"{action} on {state} as {role}: {publication_state(record)}, "
                    f"expected {expected_state}"
                )

    assert not problems, "\n".join(problems)


# Edits of the change form: a new label alone, or with the record published.
EDITS = {"relabel": {}, "publish": {"publication_status": PublicationStatus.PUBLISHED}}


@pytest.mark.parametrize("model", PUBLISHABLE_MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("edit", EDITS)
def test_the_change_form_saves_only_what_the_role_may_change(users, model, edit):
    problems = []
    for role in ROLES:
        for state in ADMIN_STATES:
            record = make_record(model, state, word=f"{role}{state}{edit}")
            client = client_for(users[role])
            url = admin_url(model, "change", record.pk)
            shown = client.get(url)
            changes = {LABEL_FIELDS[model]: f"Changed {role}{state}{edit}", **EDITS[edit]}
            data = change_form_data(shown, **changes) if shown.status_code == 200 else changes
            response = client.post(url, data)
            if role not in VIEWERS and not answered_as_expected(response, refused_answer(role)):
                problems.append(f"{edit} of {state} as {role}: {response.status_code}")
            may_change = role in PUBLISHERS or (
                role == EDITOR and state == DRAFT and edit == "relabel"
            )
            expected = (
                (state if edit == "relabel" else PUBLISHED, changes[LABEL_FIELDS[model]])
                if may_change
                else (state, f"{SEARCH_TERM.title()} {role}{state}{edit}")
            )
            if outcome(record) != expected:
                problems.append(
                    f"{edit} of {state} as {role}: {outcome(record)}, expected {expected}"
                )

    assert not problems, "\n".join(problems)


def with_old_version(model, state, word):
    """A record in the state whose label has changed since its first version; and that version."""
    record = make_record(model, state, word=word)
    save_versions(record)
    setattr(record, LABEL_FIELDS[model], f"Changed since {word}")
    save_versions(record)
    return record, versions_of(record).first()


def post_the_form(client, url):
    """Submit the admin's form at the URL unchanged, as a browser would; or post nothing."""
    shown = client.get(url)
    return client.post(url, change_form_data(shown) if shown.status_code == 200 else {})


# Who may go back in a record's history, by the state of the record.
HISTORY_ROLES = {DRAFT: VIEWERS, PUBLISHED: PUBLISHERS}


@pytest.mark.parametrize("model", PUBLISHABLE_MODELS, ids=lambda model: model.__name__)
def test_reverting_recovering_and_deleting_take_the_roles_that_may(users, model):
    problems = []
    for role in ROLES:
        client = client_for(users[role])
        for state in ADMIN_STATES:
            word = f"{role}{state}"
            record, old = with_old_version(model, state, word=f"reverted{word}")
            post_the_form(client, admin_url(model, "revision", record.pk, old.pk))
            reverted = label_of(record) == f"{SEARCH_TERM.title()} reverted{word}"
            if reverted != (role in HISTORY_ROLES[state]):
                problems.append(f"revert of {state} as {role}: reverted is {reverted}")

            version = snapshot_and_delete(make_record(model, state, word=f"recovered{word}"))
            post_the_form(client, admin_url(model, "recover", version.pk))
            recovered = model.objects.filter(pk=version.object_id).exists()
            if recovered != (role in HISTORY_ROLES[state]):
                problems.append(f"recovery of {state} as {role}: recovered is {recovered}")

            doomed = make_record(model, state, word=f"deleted{word}")
            client.post(admin_url(model, "delete", doomed.pk), {"post": "yes"})
            deleted = not model.objects.filter(pk=doomed.pk).exists()
            if deleted != (role in PUBLISHERS):
                problems.append(f"deletion of {state} as {role}: deleted is {deleted}")

    assert not problems, "\n".join(problems)


def test_a_version_of_another_record_is_not_reverted_through_this_ones_history(users):
    """Version and record IDs are guessable: a record's history takes only its own versions."""
    commitment = CommitmentFactory(title="Before", publication_status=PublicationStatus.DRAFT)
    save_versions(commitment)
    draft_era = versions_of(commitment).first()
    commitment.title, commitment.publication_status = "Live", PublicationStatus.PUBLISHED
    save_versions(commitment)
    # A draft article with the commitment's key, which an editor may change.
    article = ArticleFactory(pk=commitment.pk, publication_status=PublicationStatus.DRAFT)
    editor = client_for(users[EDITOR])
    url = admin_url(Article, "revision", article.pk, draft_era.pk)

    post_the_form(editor, url)

    assert outcome(commitment) == (PUBLISHED, "Live")
    assert editor.get(url).status_code == 404


def test_an_old_version_of_a_record_that_exists_cannot_be_recovered(users):
    """Recovery is for deleted records: 'recovering' a live one would revert it, unchecked."""
    commitment = CommitmentFactory(title="Before", publication_status=PublicationStatus.DRAFT)
    save_versions(commitment)
    draft_era = versions_of(commitment).first()
    commitment.title, commitment.publication_status = "Live", PublicationStatus.PUBLISHED
    save_versions(commitment)
    editor = client_for(users[EDITOR])
    url = admin_url(Commitment, "recover", draft_era.pk)

    post_the_form(editor, url)

    assert outcome(commitment) == (PUBLISHED, "Live")
    assert editor.get(url).status_code == 404


def test_an_editor_cannot_recover_a_draft_whose_revision_brings_back_a_published_record(users):
    """A revision may hold several records, as a bulk deletion's would: a recovery restores all."""
    draft = make_record(Commitment, DRAFT, word="togetherdraft")
    published = make_record(Commitment, PUBLISHED, word="togetherpublished")
    with reversion.create_revision():
        reversion.add_to_revision(draft)
        reversion.add_to_revision(published)
    keys = [draft.pk, published.pk]
    Commitment.objects.filter(pk__in=keys).delete()
    version = Version.objects.get_deleted(Commitment).get(object_id=str(keys[0]))

    post_the_form(client_for(users[EDITOR]), admin_url(Commitment, "recover", version.pk))

    assert not Commitment.objects.filter(pk__in=keys).exists()


def test_only_viewers_may_switch_preview_on(users):
    expected = answers(403, 403, 403, 302, 302, 302)
    for role in ROLES:
        client = client_for(users[role])
        response = client.post(reverse("policy:preview"), {"preview": "on", "next": "/"})

        assert response.status_code == expected[role], role
        assert (SESSION_KEY in client.session) == (role in VIEWERS), role
