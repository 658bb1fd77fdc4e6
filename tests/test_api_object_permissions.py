"""What a client may read and write in the API, record by record and field by field.

Adversarial: slugs and IDs of unpublished records guessed by whoever may not see them, read-only
fields and fields the API does not offer written anyway, publication changes that skip the
workflow, and IDs in a body that name another record than the URL.
"""

import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from policy.models import Article, Commitment, FocusArea, PublicationStatus, SourceQuote
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
    image_upload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("unthrottled")]

DRAFT, IN_REVIEW, PUBLISHED, ARCHIVED = (
    PublicationStatus.DRAFT,
    PublicationStatus.IN_REVIEW,
    PublicationStatus.PUBLISHED,
    PublicationStatus.ARCHIVED,
)
QUOTE = "First paragraph with a pledge of 500 scholarships."
LATER = "2030-01-01T09:00:00Z"
LONG_AGO = "2000-01-01T00:00:00Z"
DAY = datetime.timedelta(days=1)
ENDPOINTS = {Article: "articles", Commitment: "commitments", FocusArea: "focus-areas"}
MODELS = list(ENDPOINTS)
LABEL_FIELDS = {Article: "title", Commitment: "title", FocusArea: "name"}
FACTORIES = {Article: ArticleFactory, Commitment: CommitmentFactory, FocusArea: FocusAreaFactory}
# Every way a record is kept from the public, by the fields that make it so.
HIDDEN = {
    "draft": {"publication_status": DRAFT},
    "in review": {"publication_status": IN_REVIEW},
    "archived": {"publication_status": ARCHIVED},
    "scheduled": {"publication_status": PUBLISHED, "publish_at": timezone.now() + DAY},
    "expired": {
        "publication_status": PUBLISHED,
        "publish_at": timezone.now() - 2 * DAY,
        "unpublish_at": timezone.now() - DAY,
    },
}


@pytest.fixture
def unthrottled(settings):
    # These tests ask more in a second than a client may in a minute.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
    }


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def member(django_user_model):
    """Signed in, but not staff."""
    return django_user_model.objects.create_user("member")


@pytest.fixture
def bare_staff(django_user_model):
    """Staff, in no group and without permissions."""
    return django_user_model.objects.create_user("bare", is_staff=True)


@pytest.fixture
def outsiders(member, bare_staff):
    """The clients that may see no unpublished record: anonymous, and tokens without rights."""
    return {
        "anonymous": APIClient(),
        "member's token": token_client(member),
        "bare staff's token": token_client(bare_staff),
    }


@pytest.fixture
def editor_api(editor):
    return token_client(editor)


@pytest.fixture
def publisher_api(publisher):
    return token_client(publisher)


def detail(record):
    return f"/api/v1/{ENDPOINTS[type(record)]}/{record.slug}/"


def label(record):
    return getattr(record, LABEL_FIELDS[type(record)])


def stored(record):
    return type(record).objects.get(pk=record.pk)


def answer(response):
    """What a response says, but for the request path it echoes."""
    body = response.json() if response.content else None
    if isinstance(body, dict):
        body.pop("instance", None)
    return (
        response.status_code,
        response.get("Content-Type"),
        response.get("WWW-Authenticate"),
        body,
    )


def unpublished_commitment(state):
    commitment = CommitmentFactory(title=f"Secret {state} pledge", **HIDDEN[state])
    SourceQuoteFactory(commitment=commitment)
    StatusUpdateFactory(commitment=commitment, note="Secret progress.")
    return commitment


# Guessing


def probes(slug, quote):
    """Every URL and method that names a record, for the record's slug and one of its quotes."""
    commitment_paths = [
        ("get", f"/api/v1/commitments/{slug}/status-updates/"),
        ("get", f"/api/v1/commitments/{slug}/quotes/"),
        ("post", f"/api/v1/commitments/{slug}/status-updates/"),
        ("post", f"/api/v1/commitments/{slug}/quotes/"),
        ("delete", f"/api/v1/commitments/{slug}/quotes/{quote}/"),
    ]
    return [
        *(
            (method, f"/api/v1/{endpoint}/{slug}/")
            for endpoint in ENDPOINTS.values()
            for method in ("get", "head", "options", "put", "patch", "delete")
        ),
        *commitment_paths,
    ]


@pytest.mark.parametrize("state", HIDDEN)
def test_an_unpublished_record_answers_outsiders_as_if_it_did_not_exist(outsiders, state):
    """Whether a slug or a quote's ID is taken must not show: same status, same body."""
    commitment = unpublished_commitment(state)
    quote = commitment.quotes.get()
    ArticleFactory(slug=commitment.slug, **HIDDEN[state])
    FocusAreaFactory(slug=commitment.slug, **HIDDEN[state])
    differences = []
    for who, client in outsiders.items():
        for query in ("", "?include_unpublished=true"):
            hidden = probes(commitment.slug, quote.pk)
            missing = probes("no-such-record", 999_999)
            for (method, path), (_, nowhere) in zip(hidden, missing, strict=True):
                body = (
                    {"title": "Guess", "text": QUOTE} if method in ("post", "put", "patch") else {}
                )
                request = getattr(client, method)
                seen = request(f"{path}{query}", body, format="json")
                unseen = request(f"{nowhere}{query}", body, format="json")
                if answer(seen) != answer(unseen) or b"Secret" in seen.content:
                    differences.append(
                        f"{method.upper()} {path}{query} by {who}: {seen.status_code}"
                    )

    assert not differences, "\n".join(differences)
    assert stored(commitment).title == f"Secret {state} pledge"
    assert SourceQuote.objects.filter(pk=quote.pk).exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_staff_read_an_unpublished_record_only_when_they_ask_for_it(editor_api, model):
    record = FACTORIES[model](**HIDDEN["draft"])

    assert editor_api.get(detail(record)).status_code == 404
    assert editor_api.get(f"{detail(record)}?include_unpublished=true").status_code == 200


@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_the_parts_of_an_unpublished_commitment_are_read_by_staff_who_ask_only(
    outsiders, editor_api, state
):
    commitment = unpublished_commitment(state)
    paths = [f"{detail(commitment)}{part}/" for part in ("status-updates", "quotes")]

    for path in paths:
        for client in [*outsiders.values(), editor_api]:
            response = client.get(path)
            assert response.status_code == 404
            assert b"Secret" not in response.content
        shown = editor_api.get(f"{path}?include_unpublished=true")
        assert shown.status_code == 200
        assert shown.json()["count"] == 1
    assert "Secret progress." in editor_api.get(f"{paths[0]}?include_unpublished=true").text


def test_a_filter_by_an_unpublished_record_answers_as_one_by_a_record_that_does_not_exist(
    outsiders,
):
    draft = FocusAreaFactory(slug="secret-area", publication_status=DRAFT)
    CommitmentFactory().focus_areas.add(draft)

    for client in outsiders.values():
        seen = client.get("/api/v1/commitments/", {"focus_area": draft.slug})
        unseen = client.get("/api/v1/commitments/", {"focus_area": "no-such-area"})
        assert answer(seen) == answer(unseen)
        assert seen.status_code == 400


# Every endpoint that writes, by the factory of its records.
WRITABLE = {
    "articles": ArticleFactory,
    "commitments": CommitmentFactory,
    "focus-areas": FocusAreaFactory,
    "countries": CountryFactory,
    "actors": ActorFactory,
    "people": PersonFactory,
    "events": EventFactory,
    "projects": ProjectFactory,
    "keywords": KeywordFactory,
}


@pytest.mark.parametrize("endpoint", WRITABLE)
def test_writes_take_a_token_with_the_models_permission(outsiders, endpoint):
    record = WRITABLE[endpoint]()
    model = type(record)
    before = list(model.objects.values())
    attempts = [
        ("post", f"/api/v1/{endpoint}/"),
        *((method, f"/api/v1/{endpoint}/{record.slug}/") for method in ("put", "patch", "delete")),
    ]

    for who, client in outsiders.items():
        for method, path in attempts:
            body = {"name": "Written", "title": "Written", "slug": "written", "iso_code": "CL"}
            response = getattr(client, method)(path, body, format="json")
            assert response.status_code == (401 if who == "anonymous" else 403), (who, method)
    assert list(model.objects.values()) == before


# Fields that are not the client's to write


def read_only_fields(model):
    """Fields every representation shows and no write may set, with values a client might try."""
    common = {
        "version": 99,
        "created_at": LONG_AGO,
        "updated_at": LONG_AGO,
        "first_published_at": LONG_AGO,
        "url": "https://evil.example/api/",
        "html_url": "https://evil.example/",
    }
    return {
        Article: {
            **common,
            "authors": [{"name": "Impostor", "slug": "impostor", "affiliation": ""}],
            "paragraphs": ["Injected paragraph."],
            "commitments": ["a-published-commitment"],
        },
        Commitment: {
            **common,
            "status": "kept",
            "quotes": [{"article": "an-article", "text": "Injected quote."}],
            "status_history": [
                {"date": "2026-01-01", "status": "kept", "note": "Injected.", "source_url": ""}
            ],
        },
        FocusArea: {**common, "commitments": ["a-published-commitment"]},
    }[model]


# Fields that a model has and its representation does not: a client naming them writes nothing.
UNOFFERED_FIELDS = {
    Article: {
        "id": 999,
        "pk": 999,
        "image": "images/article/chosen.png",
        "image_width": 1,
        "image_alt": "Injected",
        "publisher_id": 999,
        "sources": [],
    },
    Commitment: {
        "id": 999,
        "current_status": "kept",
        "usd_equivalent": "1.00",
        "amount": "1.00",
        "components": ["a-published-commitment"],
        "sources": ["an-article"],
    },
    FocusArea: {
        "id": 999,
        "image": "images/focusarea/chosen.png",
        "source_article": "an-article",
        "source_quote": "Injected.",
    },
}


def snapshot(record):
    """Everything about a record that a write of read-only or unoffered fields must leave alone."""
    record = stored(record)
    return {
        "pk": record.pk,
        "created_at": record.created_at,
        "first_published_at": record.first_published_at,
        "image": getattr(record, "image", None) and record.image.name,
        "image_alt": getattr(record, "image_alt", None),
        "relations": {
            name: sorted(getattr(record, name).values_list("pk", flat=True))
            for name in ("authorships", "commitments", "quotes", "status_updates", "sources")
            if hasattr(record, name)
        },
        "figures": getattr(record, "amount", None),
        "current_status": getattr(record, "current_status", None),
        "source_article": getattr(record, "source_article_id", None),
    }


def a_record_with_relations(model, **fields):
    """A record with an image, authors, quotes, status updates and commitments where it has them."""
    article = ArticleFactory(slug="an-article")
    published_commitment = CommitmentFactory(slug="a-published-commitment")
    if model is Article:
        record = ArticleFactory(image=image_upload(), image_alt="A photograph.", **fields)
        AuthorshipFactory(article=record)
    elif model is Commitment:
        record = CommitmentFactory(**fields)
        SourceQuoteFactory(commitment=record, article=article)
        StatusUpdateFactory(commitment=record, status="stalled")
    else:
        record = FocusAreaFactory(image=image_upload(), image_alt="A photograph.", **fields)
        published_commitment.focus_areas.add(record)
    return record


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("fields", ["read-only", "unoffered"])
@pytest.mark.parametrize(
    ("role", "state"), [("editor", DRAFT), ("publisher", DRAFT), ("publisher", PUBLISHED)]
)
def test_fields_a_client_may_not_write_are_ignored(request, model, fields, role, state):
    client = request.getfixturevalue(f"{role}_api")
    record = a_record_with_relations(model, publication_status=state)
    before = snapshot(record)
    version = stored(record).version
    payload = read_only_fields(model) if fields == "read-only" else UNOFFERED_FIELDS[model]

    response = client.patch(detail(record), payload, format="json")

    assert response.status_code == 200, response.content
    assert snapshot(record) == before
    # The write is a save, so the version moves on by one, not to the value given.
    assert stored(record).version == version + 1
    assert stored(record).updated_at.year > 2000
    assert response.json()["version"] == version + 1


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_created_record_takes_no_read_only_value(editor_api, model):
    payload = {
        LABEL_FIELDS[model]: "New record",
        "slug": "new-record",
        **{Article: {"publication_date": "2026-01-01", "body": "Text."}}.get(model, {}),
        **{Commitment: {"kind": "scholarships"}}.get(model, {}),
        **read_only_fields(model),
        **UNOFFERED_FIELDS[model],
    }

    response = editor_api.post(f"/api/v1/{ENDPOINTS[model]}/", payload, format="json")

    assert response.status_code == 201, response.content
    created = model.objects.get(slug="new-record")
    assert created.pk != 999
    assert (created.version, created.first_published_at) == (1, None)
    assert created.created_at > timezone.now() - DAY
    assert created.publication_status == DRAFT
    assert not getattr(created, "image", None)
    for relation in ("authorships", "commitments", "quotes", "status_updates", "components"):
        assert not hasattr(created, relation) or not getattr(created, relation).exists()


# The workflow, whatever the request


WORKFLOW_SKIPS = {
    # Name: (the state the record is in, the change asked for, the reason given).
    "publish a draft": ("draft", {"publication_status": PUBLISHED}, "Only a Publisher can publish"),
    "archive a draft": ("draft", {"publication_status": ARCHIVED}, "Only a Publisher can publish"),
    "publish a record in review": (
        "in review",
        {"publication_status": PUBLISHED},
        "Only a Publisher can publish",
    ),
    "schedule a draft": ("draft", {"publish_at": LATER}, "Only a Publisher can schedule"),
    "set a draft to expire": ("draft", {"unpublish_at": LATER}, "Only a Publisher can schedule"),
    "edit a published record": ("published", {"label": "Edited"}, "only a Publisher can change"),
    "unpublish a record": (
        "published",
        {"publication_status": DRAFT},
        "only a Publisher can change",
    ),
    "edit a scheduled record": ("scheduled", {"label": "Edited"}, "only a Publisher can change"),
    "publish a scheduled record now": (
        "scheduled",
        {"publish_at": None},
        "only a Publisher can change",
    ),
    "bring back an archived record": (
        "archived",
        {"publication_status": DRAFT},
        "only a Publisher can change",
    ),
}


def record_in(model, state):
    return FACTORIES[model](**HIDDEN.get(state, {"publication_status": PUBLISHED}))


def asked(model, change, *, record):
    """The change of WORKFLOW_SKIPS as the record's fields, with a label of its own."""
    return {
        LABEL_FIELDS[model] if key == "label" else key: f"{value} {record.pk}"
        if key == "label"
        else value
        for key, value in change.items()
    }


def workflow_state(record):
    record = stored(record)
    return (
        record.publication_status,
        record.publish_at,
        record.unpublish_at,
        label(record),
        record.version,
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("skip", WORKFLOW_SKIPS)
@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_editor_cannot_skip_the_workflow(editor_api, model, skip, method):
    state, change, reason = WORKFLOW_SKIPS[skip]
    record = record_in(model, state)
    before = workflow_state(record)
    change = asked(model, change, record=record)
    if method == "put":
        shown = editor_api.get(f"{detail(record)}?include_unpublished=true").json()
        change = {**shown, **change}

    response = getattr(editor_api, method)(detail(record), change, format="json")

    assert response.status_code == 403, response.content
    assert reason.lower() in response.json()["detail"].lower()
    assert workflow_state(record) == before


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_a_publisher_takes_every_step_an_editor_may_not(publisher_api, model):
    for state, change, _ in WORKFLOW_SKIPS.values():
        record = record_in(model, state)

        response = publisher_api.patch(
            detail(record), asked(model, change, record=record), format="json"
        )

        assert response.status_code == 200, (state, change, response.content)


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("state", ["draft", "published"])
def test_an_editor_cannot_delete(editor_api, model, state):
    record = record_in(model, state)

    response = editor_api.delete(f"{detail(record)}?include_unpublished=true")

    assert response.status_code == 403
    assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
@pytest.mark.parametrize("status", [PUBLISHED, ARCHIVED])
def test_an_editor_cannot_create_a_record_past_review(editor_api, model, status):
    payload = {
        LABEL_FIELDS[model]: "New record",
        "slug": "new-record",
        "publication_status": status,
        **{Article: {"publication_date": "2026-01-01", "body": "Text."}}.get(model, {}),
        **{Commitment: {"kind": "scholarships"}}.get(model, {}),
    }

    response = editor_api.post(f"/api/v1/{ENDPOINTS[model]}/", payload, format="json")

    assert response.status_code == 403
    assert "Only a Publisher" in response.json()["detail"]
    assert not model.objects.filter(slug="new-record").exists()


# Quotes and status updates belong to the commitment in the URL


def test_a_quote_is_deleted_only_at_the_url_of_its_own_commitment(editor_api, publisher_api):
    locked = SourceQuoteFactory(commitment__publication_status=PUBLISHED)
    draft = CommitmentFactory(publication_status=DRAFT)
    foreign = SourceQuoteFactory(commitment=CommitmentFactory(publication_status=DRAFT))

    # An editor may remove the quotes of a draft, but not a published one's through the draft.
    through_draft = editor_api.delete(f"{detail(draft)}quotes/{locked.pk}/")
    # Nor may anyone remove a quote through another commitment.
    elsewhere = publisher_api.delete(f"{detail(draft)}quotes/{foreign.pk}/")

    assert (through_draft.status_code, elsewhere.status_code) == (404, 404)
    assert SourceQuote.objects.filter(pk__in=[locked.pk, foreign.pk]).count() == 2


def test_ids_in_a_body_do_not_move_a_quote_or_status_update_to_another_commitment(editor_api):
    draft = CommitmentFactory(publication_status=DRAFT)
    locked = CommitmentFactory(publication_status=PUBLISHED)
    existing = SourceQuoteFactory(commitment=locked, text=QUOTE)
    others = {"commitment": locked.slug, "commitment_id": locked.pk, "id": existing.pk}

    quote = editor_api.post(
        f"{detail(draft)}quotes/",
        {**others, "article": existing.article.slug, "text": QUOTE, "order": 3},
        format="json",
    )
    update = editor_api.post(
        f"{detail(draft)}status-updates/",
        {
            **others,
            "date": "2026-02-01",
            "status": "kept",
            "note": "Done.",
            "source_url": "https://example.org/report",
        },
        format="json",
    )

    assert (quote.status_code, update.status_code) == (201, 201)
    assert quote.json()["id"] != existing.pk
    assert draft.quotes.count() == 1
    assert draft.status_updates.count() == 1
    assert list(locked.quotes.all()) == [existing]
    assert stored(existing).order == 0
    assert not locked.status_updates.exists()


def test_an_editor_cannot_add_a_quote_to_a_published_commitment_by_naming_it(editor_api):
    locked = CommitmentFactory(publication_status=PUBLISHED)
    article = ArticleFactory()

    response = editor_api.post(
        f"{detail(locked)}quotes/", {"article": article.slug, "text": QUOTE}, format="json"
    )

    assert response.status_code == 403
    assert "only a Publisher can change it" in response.json()["detail"]
    assert not locked.quotes.exists()


@pytest.mark.parametrize("part", ["quotes", "status-updates"])
def test_tokens_without_rights_cannot_add_parts_to_any_commitment(outsiders, part):
    commitment = CommitmentFactory(publication_status=DRAFT)
    body = {"article": ArticleFactory().slug, "text": QUOTE, "date": "2026-02-01"}

    for client in outsiders.values():
        response = client.post(f"{detail(commitment)}{part}/", body, format="json")
        assert response.status_code in (401, 403)
    assert not commitment.quotes.exists() and not commitment.status_updates.exists()


# Accounts


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/users/",
        "/api/v1/users/1/",
        "/api/v1/groups/",
        "/api/v1/tokens/",
        "/api/v1/token/",
        "/api/v1/auth/token/",
        "/api/v1/api-token-auth/",
        "/api-token-auth/",
        "/api/v1/auth/login/",
    ],
)
def test_the_api_has_no_endpoint_for_users_or_tokens(admin_user, path):
    superuser = token_client(admin_user)

    for client in (APIClient(), superuser):
        assert client.get(path).status_code == 404
        assert client.post(path, {"username": "admin", "password": "x"}).status_code == 404


def test_a_token_stops_working_when_its_user_is_deactivated(editor):
    client = token_client(editor)
    editor.is_active = False
    editor.save()

    assert client.get("/api/v1/commitments/").status_code == 401


def test_a_token_of_a_user_who_left_the_staff_reads_and_writes_as_the_public(editor):
    client = token_client(editor)
    draft = CommitmentFactory(publication_status=DRAFT, title="Secret pledge")
    editor.is_staff = False
    editor.save()

    assert client.get(f"{detail(draft)}?include_unpublished=true").status_code == 404
    assert "Secret pledge" not in client.get("/api/v1/commitments/?include_unpublished=true").text
    assert client.patch(detail(draft), {"title": "Changed"}, format="json").status_code == 403
    assert stored(draft).title == "Secret pledge"
