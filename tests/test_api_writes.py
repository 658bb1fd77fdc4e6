"""Writes through the API, and drafts for editors: the admin's permissions and workflow rules."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from reversion.models import Version

from policy import services
from policy.models import (
    Actor,
    Article,
    Commitment,
    FocusArea,
    PublicationStatus,
    SourceQuote,
)
from policy.workflow import StaleEdit

from .factories import (
    ActorFactory,
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    KeywordFactory,
    PersonFactory,
    ProjectFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

pytestmark = pytest.mark.django_db

DRAFT, IN_REVIEW, PUBLISHED = (
    PublicationStatus.DRAFT,
    PublicationStatus.IN_REVIEW,
    PublicationStatus.PUBLISHED,
)
QUOTE = "First paragraph with a pledge of 500 scholarships."
LATER = "2030-01-01T09:00:00Z"


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def editor_api(editor):
    return token_client(editor)


@pytest.fixture
def publisher_api(publisher):
    return token_client(publisher)


ENDPOINTS = {Article: "articles", Commitment: "commitments", FocusArea: "focus-areas"}


def detail(record):
    return f"/api/v1/{ENDPOINTS[type(record)]}/{record.slug}/"


def errors_by_field(response):
    """A 400's messages by field, as dotted paths (problem details, policy/api/errors.py)."""
    assert response.status_code == 400, response.content
    return response.json()["errors"]


def etag_of(record):
    record.refresh_from_db()
    return f'"{record._meta.model_name}-{record.pk}-{record.version}"'


@pytest.fixture
def relations():
    return {
        "party": ActorFactory(slug="government-of-china"),
        "country": CountryFactory(iso_code="BR"),
        "focus_area": FocusAreaFactory(slug="education", publication_status=DRAFT),
        "event": EventFactory(slug="ministerial-2025"),
        "plan": CommitmentFactory(slug="joint-action-plan"),
    }


def commitment_payload(**overrides):
    return {
        "title": "More than 3,500 scholarships",
        "slug": "scholarships-2025-2027",
        "kind": "scholarships",
        "description": "Government scholarships for students of the region.",
        "figures": {
            "target": {"value": "3500", "unit": "scholarships", "qualifier": "more_than"},
            "amount": None,
            "period": {"start": "2025-01-01", "end": "2027-01-01"},
        },
        "parties": ["government-of-china"],
        "countries": ["BR"],
        "focus_areas": ["education"],
        "announced_at": "ministerial-2025",
        "part_of": "joint-action-plan",
        **overrides,
    }


# Creating, and who may publish


def test_editor_creates_a_draft_commitment_with_its_relations_and_figures(editor_api, relations):
    response = editor_api.post("/api/v1/commitments/", commitment_payload(), format="json")

    assert response.status_code == 201, response.content
    commitment = Commitment.objects.get(slug="scholarships-2025-2027")
    assert commitment.publication_status == DRAFT
    assert list(commitment.parties.all()) == [relations["party"]]
    assert list(commitment.countries.all()) == [relations["country"]]
    assert list(commitment.focus_areas.all()) == [relations["focus_area"]]
    assert commitment.announced_at == relations["event"]
    assert commitment.part_of == relations["plan"]
    assert commitment.target_display == "more than 3,500 scholarships"
    data = response.json()
    assert response["Location"] == data["url"]
    assert response["ETag"] == etag_of(commitment)
    assert data["publication_status"] == "draft"
    assert data["version"] == 1
    assert data["figures"]["target"] == {
        "value": "3500.00",
        "unit": "scholarships",
        "qualifier": "more_than",
    }
    assert data["focus_areas"] == [{"slug": "education", "name": relations["focus_area"].name}]


def test_relations_may_be_given_as_the_objects_the_read_output_shows(editor_api, relations):
    payload = commitment_payload(
        countries=[{"iso_code": "BR", "name": "Brazil", "slug": "brazil"}],
        parties=[{"name": "Government of China", "slug": "government-of-china"}],
    )

    response = editor_api.post("/api/v1/commitments/", payload, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["countries"][0]["iso_code"] == "BR"


def test_editor_may_submit_a_commitment_for_review(editor_api, relations):
    payload = commitment_payload(publication_status=IN_REVIEW)

    response = editor_api.post("/api/v1/commitments/", payload, format="json")

    assert response.status_code == 201
    assert Commitment.objects.get(slug=payload["slug"]).publication_status == IN_REVIEW


@pytest.mark.parametrize(
    "workflow", [{"publication_status": PUBLISHED}, {"publish_at": LATER}, {"unpublish_at": LATER}]
)
def test_editor_cannot_create_a_published_or_scheduled_commitment(editor_api, relations, workflow):
    response = editor_api.post(
        "/api/v1/commitments/", commitment_payload(**workflow), format="json"
    )

    assert response.status_code == 403
    assert "Only a Publisher" in response.json()["detail"]
    assert not Commitment.objects.filter(slug="scholarships-2025-2027").exists()


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize(
    "workflow",
    [{"publication_status": PUBLISHED}, {"publish_at": LATER}],
    ids=["publish", "schedule"],
)
def test_editor_cannot_publish_or_schedule_a_draft_by_changing_it(editor_api, method, workflow):
    draft = CommitmentFactory(publication_status=DRAFT, title="Draft title")
    body = {"title": "New title", "slug": draft.slug, "kind": draft.kind, **workflow}

    response = getattr(editor_api, method)(detail(draft), body, format="json")

    assert response.status_code == 403
    assert "Only a Publisher can" in response.json()["detail"]
    stored = Commitment.objects.get(pk=draft.pk)
    assert (stored.title, stored.publication_status, stored.publish_at, stored.version) == (
        "Draft title",
        DRAFT,
        None,
        1,
    )


@pytest.mark.parametrize("factory", [ArticleFactory, FocusAreaFactory])
def test_editor_cannot_publish_articles_or_focus_areas_either(editor_api, factory):
    draft = factory(publication_status=DRAFT)

    response = editor_api.patch(detail(draft), {"publication_status": PUBLISHED}, format="json")

    assert response.status_code == 403
    assert type(draft).objects.get(pk=draft.pk).publication_status == DRAFT


def test_publisher_publishes_and_schedules_a_commitment(publisher_api):
    draft = CommitmentFactory(publication_status=DRAFT)

    response = publisher_api.patch(
        detail(draft), {"publication_status": PUBLISHED, "publish_at": LATER}, format="json"
    )

    assert response.status_code == 200, response.content
    stored = Commitment.objects.get(pk=draft.pk)
    assert stored.publication_status == PUBLISHED
    assert stored.publish_at == datetime.datetime(2030, 1, 1, 9, tzinfo=datetime.UTC)
    assert response.json()["publish_at"] == "2030-01-01T09:00:00Z"


def test_publisher_creates_a_published_commitment(publisher_api, relations):
    payload = commitment_payload(publication_status=PUBLISHED)

    response = publisher_api.post("/api/v1/commitments/", payload, format="json")

    assert response.status_code == 201
    assert Commitment.objects.published().filter(slug=payload["slug"]).exists()


# Published records are the Publisher's


def test_editor_cannot_change_a_published_commitment(editor_api):
    published = CommitmentFactory(title="Live title")

    response = editor_api.patch(detail(published), {"title": "Edited"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "This commitment is Published: only a Publisher can change it."
    )
    assert Commitment.objects.get(pk=published.pk).title == "Live title"


def test_editor_changes_a_draft(editor_api):
    draft = CommitmentFactory(publication_status=DRAFT)

    response = editor_api.patch(
        detail(draft), {"title": "Better title", "figures": {"amount": None}}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Better title"
    assert Commitment.objects.get(pk=draft.pk).title == "Better title"


def test_patch_of_one_figure_keeps_the_others(publisher_api):
    commitment = CommitmentFactory(
        amount=66_000_000_000, currency="CNY", target_value=10, target_unit="ports"
    )

    response = publisher_api.patch(
        detail(commitment), {"figures": {"amount": {"currency": "USD"}}}, format="json"
    )

    assert response.status_code == 200, response.content
    figures = response.json()["figures"]
    assert figures["amount"]["value"] == "66000000000.00"
    assert figures["amount"]["currency"] == "USD"
    assert figures["target"]["unit"] == "ports"


def test_null_clears_a_target(publisher_api):
    commitment = CommitmentFactory(target_value=10, target_unit="ports")

    response = publisher_api.patch(detail(commitment), {"figures": {"target": None}}, format="json")

    assert response.json()["figures"]["target"] is None
    stored = Commitment.objects.get(pk=commitment.pk)
    assert (stored.target_value, stored.target_unit) == (None, "")


# Status updates and quotes


def test_editor_adds_a_status_update_to_a_published_commitment_and_its_status_changes(
    editor_api, anonymous
):
    commitment = CommitmentFactory()
    before = etag_of(commitment)
    url = f"{detail(commitment)}status-updates/"
    update = {
        "date": "2026-02-01",
        "status": "kept",
        "note": "All scholarships were awarded.",
        "source_url": "https://example.org/report",
    }

    response = editor_api.post(url, update, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "kept"
    public = anonymous.get(detail(commitment))
    assert public.json()["status"] == "kept"
    assert public.json()["status_history"][-1]["note"] == "All scholarships were awarded."
    assert public["ETag"] != before
    assert anonymous.get(url).json()["results"][0]["status"] == "kept"


def test_status_update_without_a_source_answers_400(editor_api):
    commitment = CommitmentFactory()

    response = editor_api.post(
        f"{detail(commitment)}status-updates/",
        {"date": "2026-02-01", "status": "kept", "note": "Done."},
        format="json",
    )

    assert "non_field_errors" in errors_by_field(response)
    assert not commitment.status_updates.exists()


def test_editor_adds_a_verbatim_quote_to_a_draft_commitment(editor_api):
    commitment = CommitmentFactory(publication_status=DRAFT)
    article = ArticleFactory(slug="source")

    response = editor_api.post(
        f"{detail(commitment)}quotes/", {"article": "source", "text": QUOTE}, format="json"
    )

    assert response.status_code == 201, response.content
    quote = SourceQuote.objects.get(commitment=commitment)
    assert response.json() == {"id": quote.pk, "article": article.slug, "text": QUOTE, "order": 0}


def test_a_quote_that_is_not_verbatim_answers_400_on_its_text(editor_api):
    commitment = CommitmentFactory(publication_status=DRAFT)
    ArticleFactory(slug="source")

    response = editor_api.post(
        f"{detail(commitment)}quotes/",
        {"article": "source", "text": "A pledge of 5,000 scholarships."},
        format="json",
    )

    assert "not found verbatim" in errors_by_field(response)["text"][0]
    assert not SourceQuote.objects.exists()


def test_editor_cannot_add_or_delete_quotes_of_a_published_commitment(editor_api):
    quote = SourceQuoteFactory()
    url = f"{detail(quote.commitment)}quotes/"

    added = editor_api.post(url, {"article": quote.article.slug, "text": QUOTE}, format="json")
    deleted = editor_api.delete(f"{url}{quote.pk}/")

    assert (added.status_code, deleted.status_code) == (403, 403)
    assert "only a Publisher can change it" in added.json()["detail"]
    assert SourceQuote.objects.count() == 1


def test_publisher_deletes_a_quote_and_the_commitment_history_keeps_it(publisher_api):
    quote = SourceQuoteFactory()
    commitment = quote.commitment

    response = publisher_api.delete(f"{detail(commitment)}quotes/{quote.pk}/")

    assert response.status_code == 204
    assert not SourceQuote.objects.exists()
    version = Version.objects.get_for_object(commitment).first()
    assert version.revision.get_comment() == "Quote removed via API"
    assert Commitment.objects.get(pk=commitment.pk).version == 2


# Validation


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"figures": {"amount": {"value": "100", "currency": "cny"}}}, "figures.amount.currency"),
        ({"figures": {"amount": {"value": "-1", "currency": "CNY"}}}, "figures.amount.value"),
        ({"figures": {"target": {"value": "-5", "unit": "ports"}}}, "figures.target.value"),
        ({"figures": {"target": {"value": "5", "unit": ""}}}, "figures.target.unit"),
        (
            {"figures": {"period": {"start": "2027-01-01", "end": "2025-01-01"}}},
            "figures.period.end",
        ),
        ({"countries": ["ZZ"]}, "countries"),
        ({"parties": ["nobody"]}, "parties"),
        ({"kind": "loan"}, "kind"),
        ({"slug": "not a slug"}, "slug"),
    ],
    ids=[
        "bad-currency",
        "negative-amount",
        "negative-target",
        "target-without-unit",
        "period-ends-before-it-starts",
        "unknown-country-code",
        "unknown-party",
        "unknown-kind",
        "bad-slug",
    ],
)
def test_invalid_commitment_answers_400_with_a_message_for_the_field(
    editor_api, relations, changes, field
):
    response = editor_api.post("/api/v1/commitments/", commitment_payload(**changes), format="json")

    errors = errors_by_field(response)
    assert list(errors) == [field]
    assert errors[field][0]
    assert not Commitment.objects.filter(slug="scholarships-2025-2027").exists()


def test_a_slug_already_taken_answers_400_on_the_slug(editor_api, relations):
    CommitmentFactory(slug="scholarships-2025-2027")

    response = editor_api.post("/api/v1/commitments/", commitment_payload(), format="json")

    assert list(errors_by_field(response)) == ["slug"]


def test_a_body_that_is_not_json_answers_415(editor_api):
    response = editor_api.post(
        "/api/v1/commitments/", "title=Scholarships", content_type="text/plain"
    )

    assert response.status_code == 415


def test_writes_to_records_that_do_not_exist_answer_404(editor_api):
    assert editor_api.patch("/api/v1/commitments/nothing/", {}, format="json").status_code == 404
    response = editor_api.post("/api/v1/commitments/nothing/status-updates/", {}, format="json")
    assert response.status_code == 404


def test_a_method_an_endpoint_does_not_take_answers_405(editor_api):
    commitment = CommitmentFactory(publication_status=DRAFT)

    assert editor_api.put("/api/v1/commitments/", {}, format="json").status_code == 405
    assert editor_api.delete(f"{detail(commitment)}status-updates/").status_code == 405


# Edit conflicts


def test_a_detail_carries_the_version_of_the_record_as_its_etag(anonymous):
    commitment = CommitmentFactory()

    response = anonymous.get(detail(commitment))

    assert response["ETag"].startswith(f'"commitment-{commitment.pk}-1.')


def test_a_detail_etag_moves_when_a_related_record_changes_what_it_shows(anonymous):
    party = ActorFactory(name="Old name")
    commitment = CommitmentFactory()
    commitment.parties.add(party)
    before = anonymous.get(detail(commitment))["ETag"]
    party.name = "New name"
    party.save()

    response = anonymous.get(detail(commitment), HTTP_IF_NONE_MATCH=before)

    assert response.status_code == 200
    assert response["ETag"] != before
    assert response["ETag"].startswith(f'"commitment-{commitment.pk}-1.')


def test_if_match_compares_the_version_whatever_related_records_show(editor_api):
    party = ActorFactory()
    draft = CommitmentFactory(publication_status=DRAFT)
    draft.parties.add(party)
    loaded = etag_of(draft)
    party.name = "Renamed meanwhile"
    party.save()

    response = editor_api.patch(
        detail(draft), {"title": "Still mine"}, format="json", HTTP_IF_MATCH=loaded
    )

    assert response.status_code == 200


def test_a_write_with_the_current_etag_succeeds_and_moves_the_etag_on(editor_api):
    draft = CommitmentFactory(publication_status=DRAFT)
    loaded = etag_of(draft)

    response = editor_api.patch(
        detail(draft), {"title": "Second"}, format="json", HTTP_IF_MATCH=loaded
    )

    assert response.status_code == 200
    assert response["ETag"] == etag_of(draft) != loaded
    assert response.json()["version"] == 2


@pytest.mark.parametrize("method", ["patch", "put", "delete"])
def test_a_write_with_a_stale_etag_answers_412_and_writes_nothing(publisher_api, method):
    record = CommitmentFactory(title="First")
    stale = etag_of(record)
    publisher_api.patch(detail(record), {"title": "Second"}, format="json")

    response = getattr(publisher_api, method)(
        detail(record),
        {"title": "Third", "slug": record.slug, "kind": record.kind},
        format="json",
        HTTP_IF_MATCH=stale,
    )

    assert response.status_code == 412
    stored = Commitment.objects.get(pk=record.pk)
    assert (stored.title, stored.version) == ("Second", 2)


@pytest.mark.parametrize(
    "if_match",
    ['W/"commitment-{pk}-1"', '"article-{pk}-1"', '"commitment-0-1"', "garbage"],
    ids=["weak", "other-model", "other-record", "malformed"],
)
def test_an_etag_of_another_record_or_a_weak_one_does_not_match(editor_api, if_match):
    draft = CommitmentFactory(publication_status=DRAFT)

    response = editor_api.patch(
        detail(draft),
        {"title": "Second"},
        format="json",
        HTTP_IF_MATCH=if_match.format(pk=draft.pk),
    )

    assert response.status_code == 412


def test_if_match_star_and_no_if_match_let_the_write_proceed(editor_api):
    draft = CommitmentFactory(publication_status=DRAFT)

    assert (
        editor_api.patch(
            detail(draft), {"title": "A"}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )
    assert editor_api.patch(detail(draft), {"title": "B"}, format="json").status_code == 200


def test_a_write_based_on_a_version_saved_meanwhile_is_refused(editor):
    loaded = CommitmentFactory(publication_status=DRAFT, title="First")
    Commitment.objects.get(pk=loaded.pk).save()

    with pytest.raises(StaleEdit):
        services.save_record(record=loaded, changes={"title": "Lost"}, user=editor, via="API")

    assert Commitment.objects.get(pk=loaded.pk).title == "First"


# History


def test_history_records_the_api_user_and_the_kind_of_change(editor_api, editor, relations):
    editor_api.post("/api/v1/commitments/", commitment_payload(), format="json")
    commitment = Commitment.objects.get(slug="scholarships-2025-2027")
    editor_api.patch(detail(commitment), {"title": "Renamed"}, format="json")
    editor_api.post(
        f"{detail(commitment)}status-updates/",
        {"date": "2026-02-01", "status": "kept", "note": "Done.", "source_url": "https://a.org"},
        format="json",
    )

    versions = Version.objects.get_for_object(commitment)

    assert [v.revision.get_comment() for v in versions] == [
        "Status update added via API",
        "Changed via API",
        "Created via API",
    ]
    assert {v.revision.user for v in versions} == {editor}
    assert versions[2].field_dict["title"] == "More than 3,500 scholarships"
    assert versions[2].field_dict["parties"] == [relations["party"].pk]
    assert versions[1].field_dict["title"] == "Renamed"


# Deleting


def test_editor_cannot_delete_a_draft(editor_api):
    draft = CommitmentFactory(publication_status=DRAFT)

    response = editor_api.delete(detail(draft))

    assert response.status_code == 403
    assert Commitment.objects.filter(pk=draft.pk).exists()


def test_publisher_deletes_a_commitment_and_it_can_be_recovered_from_history(
    publisher_api, publisher
):
    quote = SourceQuoteFactory(commitment__title="Gone for a moment")
    commitment = quote.commitment

    response = publisher_api.delete(detail(commitment))

    assert response.status_code == 204
    assert not Commitment.objects.filter(pk=commitment.pk).exists()
    deleted = Version.objects.get_deleted(Commitment).get()
    assert deleted.field_dict["title"] == "Gone for a moment"
    assert deleted.revision.user == publisher
    assert deleted.revision.get_comment() == "Deleted via API"
    deleted.revision.revert()
    assert Commitment.objects.get(pk=commitment.pk).quotes.get().text == QUOTE


def test_deleting_a_record_others_point_to_answers_409(publisher_api):
    quote = SourceQuoteFactory()

    response = publisher_api.delete(detail(quote.article))

    assert response.status_code == 409
    assert Article.objects.filter(pk=quote.article.pk).exists()


# Authentication


def test_anonymous_writes_answer_401_and_ask_for_a_token(anonymous):
    commitment = CommitmentFactory(publication_status=DRAFT)

    responses = [
        anonymous.post("/api/v1/commitments/", {"title": "X"}, format="json"),
        anonymous.patch(detail(commitment), {"title": "X"}, format="json"),
        anonymous.delete(detail(commitment)),
        anonymous.post(f"{detail(commitment)}status-updates/", {}, format="json"),
    ]

    assert [response.status_code for response in responses] == [401] * 4
    assert responses[0]["WWW-Authenticate"] == "Token"


def test_an_invalid_token_answers_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert anonymous.get("/api/v1/commitments/").status_code == 401


def test_a_staff_user_without_the_model_permission_cannot_write(django_user_model):
    user = django_user_model.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_commitment"))

    response = token_client(user).post("/api/v1/commitments/", {}, format="json")

    assert response.status_code == 403


def test_a_user_who_is_not_staff_cannot_write_even_with_permissions(django_user_model):
    user = django_user_model.objects.create_user("outsider")
    user.user_permissions.add(Permission.objects.get(codename="add_actor"))

    response = token_client(user).post(
        "/api/v1/actors/", {"name": "A", "slug": "a", "kind": "company"}, format="json"
    )

    assert response.status_code == 403


def test_a_token_created_in_the_admin_works_until_it_is_revoked_there(admin_client, editor):
    admin_client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": editor.pk})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=editor).key}")
    body = {"name": "Port authority", "slug": "port-authority", "kind": "company"}
    assert client.post("/api/v1/actors/", body, format="json").status_code == 201

    admin_client.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[editor.pk]), {"post": "yes"}
    )

    assert not Token.objects.filter(user=editor).exists()
    assert client.get("/api/v1/actors/").status_code == 401


def test_the_browsable_api_writes_with_a_session(editor_client):
    response = editor_client.post(
        "/api/v1/keywords/",
        {"name": "Ports", "slug": "ports"},
        content_type="application/json",
    )

    assert response.status_code == 201


# Drafts for editors


def test_editors_see_drafts_and_workflow_fields_when_they_ask(editor_api):
    CommitmentFactory(slug="public")
    CommitmentFactory(slug="draft", publication_status=DRAFT)

    listed = editor_api.get("/api/v1/commitments/", {"include_unpublished": "true"}).json()
    draft = editor_api.get("/api/v1/commitments/draft/", {"include_unpublished": "true"}).json()

    assert sorted(item["slug"] for item in listed["results"]) == ["draft", "public"]
    assert {item["publication_status"] for item in listed["results"]} == {"draft", "published"}
    assert draft["version"] == 1
    assert (draft["publish_at"], draft["unpublish_at"]) == (None, None)


def test_editors_see_published_records_only_unless_they_ask(editor_api):
    CommitmentFactory(slug="public")
    draft = CommitmentFactory(slug="draft", publication_status=DRAFT)

    listed = editor_api.get("/api/v1/commitments/").json()

    assert [item["slug"] for item in listed["results"]] == ["public"]
    assert listed["results"][0]["publication_status"] == "published"
    assert editor_api.get(detail(draft)).status_code == 404


def test_asking_for_drafts_shows_draft_relations_too(editor_api):
    commitment = CommitmentFactory(
        publication_status=DRAFT, part_of=CommitmentFactory(publication_status=DRAFT)
    )
    commitment.focus_areas.add(FocusAreaFactory(publication_status=DRAFT))
    StatusUpdateFactory(
        commitment=commitment,
        source_article=ArticleFactory(publication_status=DRAFT),
        source_quote=QUOTE,
    )

    data = editor_api.get(detail(commitment), {"include_unpublished": "true"}).json()

    assert data["part_of"] == commitment.part_of.slug
    assert len(data["focus_areas"]) == 1
    assert data["status_history"][0]["source_quote"] == QUOTE


def test_anonymous_clients_asking_for_drafts_get_published_records_without_workflow_fields(
    anonymous,
):
    CommitmentFactory(slug="public")
    draft = CommitmentFactory(slug="draft", publication_status=DRAFT)

    listed = anonymous.get("/api/v1/commitments/", {"include_unpublished": "true"})

    assert listed.status_code == 200
    [item] = listed.json()["results"]
    assert item["slug"] == "public"
    assert "publication_status" not in item
    assert "version" not in item
    assert anonymous.get(detail(draft), {"include_unpublished": "true"}).status_code == 404


def test_a_user_who_may_not_preview_asking_for_drafts_gets_published_records(
    django_user_model,
):
    user = django_user_model.objects.create_user("member")
    CommitmentFactory(slug="public")
    CommitmentFactory(slug="draft", publication_status=DRAFT)

    listed = token_client(user).get("/api/v1/commitments/", {"include_unpublished": "true"})

    assert [item["slug"] for item in listed.json()["results"]] == ["public"]


# Reference records


@pytest.mark.parametrize(
    ("endpoint", "factory", "fields"),
    [
        ("actors", ActorFactory, {"name", "slug", "url", "kind", "country"}),
        ("people", PersonFactory, {"name", "slug", "url", "role", "country"}),
        (
            "events",
            EventFactory,
            {
                "name",
                "slug",
                "url",
                "date",
                "date_precision",
                "date_display",
                "place",
                "country",
                "description",
                "participants",
            },
        ),
        (
            "projects",
            ProjectFactory,
            {"name", "slug", "url", "country", "place", "actors", "focus_areas", "description"},
        ),
        ("keywords", KeywordFactory, {"name", "slug", "url"}),
    ],
)
def test_reference_records_are_listed_and_read_by_slug(anonymous, endpoint, factory, fields):
    record = factory()

    listed = anonymous.get(f"/api/v1/{endpoint}/").json()
    data = anonymous.get(f"/api/v1/{endpoint}/{record.slug}/").json()

    assert [item["slug"] for item in listed["results"]] == [record.slug]
    assert set(data) == fields
    assert data["url"] == f"http://testserver/api/v1/{endpoint}/{record.slug}/"


def test_editor_creates_an_actor_in_a_country_given_by_iso_code(editor_api):
    country = CountryFactory(iso_code="PE")

    response = editor_api.post(
        "/api/v1/actors/",
        {"name": "Port of Chancay", "slug": "port-of-chancay", "kind": "company", "country": "PE"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Actor.objects.get(slug="port-of-chancay").country == country
    assert response.json()["country"] == {
        "iso_code": "PE",
        "name": country.name,
        "slug": country.slug,
    }


def test_an_invalid_country_code_answers_400_on_the_field(publisher_api):
    response = publisher_api.post(
        "/api/v1/countries/",
        {"name": "Nowhere", "slug": "nowhere", "iso_code": "QQ", "region": "caribbean"},
        format="json",
    )

    assert list(errors_by_field(response)) == ["iso_code"]


def test_a_project_lists_the_published_focus_areas_only(anonymous):
    project = ProjectFactory()
    project.focus_areas.add(FocusAreaFactory(slug="public"))
    project.focus_areas.add(FocusAreaFactory(slug="hidden", publication_status=DRAFT))

    data = anonymous.get(f"/api/v1/projects/{project.slug}/").json()

    assert data["focus_areas"] == ["public"]


def test_editor_cannot_delete_a_reference_record_and_publisher_can(editor_api, publisher_api):
    actor = ActorFactory()

    assert editor_api.delete(f"/api/v1/actors/{actor.slug}/").status_code == 403
    assert publisher_api.delete(f"/api/v1/actors/{actor.slug}/").status_code == 204
    assert not Actor.objects.exists()


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("endpoint", "queries"), [("actors", 2), ("people", 2), ("events", 3), ("projects", 4)]
)
def test_reference_list_query_count_does_not_grow_with_rows(
    anonymous, django_assert_num_queries, endpoint, queries, rows
):
    for _ in range(rows):
        country = CountryFactory()
        ActorFactory(country=country)
        PersonFactory(country=country)
        EventFactory(country=country).participants.add(PersonFactory())
        project = ProjectFactory(country=country)
        project.actors.add(ActorFactory())
        project.focus_areas.add(FocusAreaFactory())

    # Count, the records (with their country), then one per list.
    with django_assert_num_queries(queries):
        anonymous.get(f"/api/v1/{endpoint}/", {"page_size": 100})


@pytest.mark.parametrize("rows", [3, 30])
def test_editor_list_with_drafts_query_count_does_not_grow_with_rows(
    editor_api, editor, django_assert_num_queries, rows
):
    for _ in range(rows):
        commitment = CommitmentFactory(publication_status=DRAFT)
        commitment.focus_areas.add(FocusAreaFactory(publication_status=DRAFT))
    editor_api.get("/api/v1/commitments/")  # the token's user and permissions

    # Token, user permissions and group permissions, count, commitments, then one each for
    # parties, countries, focus areas, quotes and status history.
    with django_assert_num_queries(10):
        editor_api.get("/api/v1/commitments/", {"include_unpublished": "true", "page_size": 100})


def test_focus_areas_and_articles_are_created_as_drafts_by_editors(editor_api):
    KeywordFactory(name="Ports")
    ActorFactory(slug="xinhua")

    area = editor_api.post(
        "/api/v1/focus-areas/", {"name": "Ports", "slug": "ports", "order": 3}, format="json"
    )
    article = editor_api.post(
        "/api/v1/articles/",
        {
            "title": "A new port",
            "slug": "a-new-port",
            "publication_date": "2025-11-05",
            "body": "The port opens.",
            "publisher": "xinhua",
            "keywords": ["Ports"],
        },
        format="json",
    )

    assert (area.status_code, article.status_code) == (201, 201)
    assert FocusArea.objects.get(slug="ports").publication_status == DRAFT
    stored = Article.objects.get(slug="a-new-port")
    assert stored.publication_status == DRAFT
    assert [k.name for k in stored.keywords.all()] == ["Ports"]
    assert article.json()["publisher"] == {"name": stored.publisher.name, "slug": "xinhua"}


@pytest.mark.parametrize(("if_match", "expected"), [("*", 200), ('"actor-1-1"', 412)])
def test_if_match_on_a_record_without_versions(publisher_api, if_match, expected):
    actor = ActorFactory()
    response = publisher_api.patch(
        f"/api/v1/actors/{actor.slug}/", {"name": "Renamed"}, format="json", HTTP_IF_MATCH=if_match
    )
    assert response.status_code == expected
