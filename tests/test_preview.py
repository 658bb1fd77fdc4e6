import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from policy import preview
from policy.models import Article, PublicationStatus
from policy.preview import SESSION_KEY
from tests.factories import (
    ArticleFactory,
    AuthorshipFactory,
    CommitmentFactory,
    CountryFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT
PREVIEW_BANNER = "Preview: this page shows unpublished content. Drafts are marked."
RECORD_BANNER = "Preview: this page is not published. Only staff can see it."
PREVIEW_URL = reverse("policy:preview")


def marker(state):
    return f'<span class="publication-state">{state}</span>'


def view_permissions(*model_names):
    return Permission.objects.filter(
        content_type__app_label="policy", codename__in=[f"view_{name}" for name in model_names]
    )


def make_user(django_user_model, username, *, is_staff=True, can_view=()):
    user = django_user_model.objects.create_user(username, password="x", is_staff=is_staff)
    user.user_permissions.add(*view_permissions(*can_view))
    return user


@pytest.fixture
def staff(django_user_model):
    return make_user(
        django_user_model,
        "stella",
        can_view=("article", "commitment", "focusarea", "sourcequote"),
    )


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def previewing_client(staff_client):
    staff_client.post(PREVIEW_URL, {"preview": "on", "next": "/"})
    return staff_client


def forge_preview_flag(client):
    session = client.session
    session[SESSION_KEY] = True
    session.save()


def drafts_of_every_kind():
    # With a figure, so that the home page shows it too.
    CommitmentFactory(title="Draft pledge", amount=10, currency="USD", publication_status=DRAFT)
    ArticleFactory(title="Draft article", publication_status=DRAFT)
    FocusAreaFactory(name="Draft area", publication_status=DRAFT)


# Turning preview on and off


def test_staff_can_turn_preview_on_and_off(staff_client):
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)
    commitments = reverse("policy:commitment_list")

    turned_on = staff_client.post(PREVIEW_URL, {"preview": "on", "next": commitments})
    shown = staff_client.get(commitments)
    turned_off = staff_client.post(PREVIEW_URL, {"preview": "off", "next": commitments})
    hidden = staff_client.get(commitments)

    assert turned_on.status_code == turned_off.status_code == 302
    assert turned_on["Location"] == turned_off["Location"] == commitments
    assert "Draft pledge" in shown.text
    assert PREVIEW_BANNER in shown.text
    assert "Draft pledge" not in hidden.text
    assert PREVIEW_BANNER not in hidden.text


def test_preview_banner_offers_to_leave_preview_and_come_back_to_the_same_page(previewing_client):
    url = f"{reverse('policy:commitment_list')}?kind=training"

    response = previewing_client.get(url)

    assert 'role="status"' in response.text
    assert f'action="{PREVIEW_URL}"' in response.text
    assert 'name="csrfmiddlewaretoken"' in response.text
    assert 'name="next" value="/en/commitments/?kind=training"' in response.text
    assert 'name="preview" value="off">Leave preview mode</button>' in response.text


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example",
        "https://evil.example/commitments/",
        "//evil.example/commitments/",
        "javascript:alert(1)",
        "",
    ],
)
def test_turning_preview_on_refuses_to_redirect_to_another_site(staff_client, next_url):
    response = staff_client.post(PREVIEW_URL, {"preview": "on", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("policy:home")


def test_anonymous_visitor_cannot_turn_preview_on(client):
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)

    response = client.post(PREVIEW_URL, {"preview": "on", "next": "/"})

    assert response.status_code == 403
    assert SESSION_KEY not in client.session
    assert "Draft pledge" not in client.get(reverse("policy:commitment_list")).text


@pytest.mark.parametrize(
    ("is_staff", "can_view"),
    [
        pytest.param(False, ("article", "commitment", "focusarea"), id="not-staff"),
        pytest.param(True, ("country", "actor"), id="staff-without-content-view-permission"),
    ],
)
def test_user_who_may_not_view_the_content_cannot_turn_preview_on(
    client, django_user_model, is_staff, can_view
):
    client.force_login(make_user(django_user_model, "uma", is_staff=is_staff, can_view=can_view))

    response = client.post(PREVIEW_URL, {"preview": "on", "next": "/"})

    assert response.status_code == 403
    assert SESSION_KEY not in client.session


def test_turning_preview_on_needs_a_csrf_token_and_a_post(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    assert client.post(PREVIEW_URL, {"preview": "on", "next": "/"}).status_code == 403
    assert client.get(PREVIEW_URL).status_code == 405
    assert SESSION_KEY not in client.session


# A preview flag in the session is not enough


def test_forged_preview_flag_shows_no_drafts_to_anonymous_visitors(client):
    drafts_of_every_kind()
    forge_preview_flag(client)

    response = client.get(reverse("policy:home"))

    for text in ("Draft pledge", "Draft article", "Draft area", PREVIEW_BANNER):
        assert text not in response.text


def test_forged_preview_flag_shows_no_drafts_to_users_who_are_not_staff(client, django_user_model):
    drafts_of_every_kind()
    client.force_login(
        make_user(django_user_model, "uma", is_staff=False, can_view=("commitment",))
    )
    forge_preview_flag(client)

    response = client.get(reverse("policy:commitment_list"))

    assert "Draft pledge" not in response.text
    assert PREVIEW_BANNER not in response.text


@pytest.mark.parametrize("change", [{"is_staff": False}, {"is_active": False}])
def test_preview_stops_as_soon_as_the_user_loses_staff_status(previewing_client, staff, change):
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)
    for field, value in change.items():
        setattr(staff, field, value)
    staff.save()

    response = previewing_client.get(reverse("policy:commitment_list"))

    assert "Draft pledge" not in response.text
    assert PREVIEW_BANNER not in response.text


def test_preview_ends_with_logout(previewing_client):
    CommitmentFactory(title="Draft pledge", publication_status=DRAFT)

    previewing_client.logout()
    response = previewing_client.get(reverse("policy:commitment_list"))

    assert "Draft pledge" not in response.text


def test_preview_shows_drafts_only_of_the_models_the_user_may_view(client, django_user_model):
    drafts_of_every_kind()
    client.force_login(make_user(django_user_model, "carla", can_view=("commitment",)))
    client.post(PREVIEW_URL, {"preview": "on", "next": "/"})

    response = client.get(reverse("policy:home"))

    assert "Draft pledge" in response.text
    assert "Draft article" not in response.text
    assert "Draft area" not in response.text


# What preview mode shows


@pytest.mark.parametrize(
    ("url_name", "texts"),
    [
        ("policy:commitment_list", ["Draft pledge"]),
        ("policy:article_list", ["Draft article"]),
        ("policy:focusarea_list", ["Draft area"]),
        ("policy:home", ["Draft pledge", "Draft article", "Draft area"]),
    ],
)
def test_preview_lists_drafts_with_the_banner_and_a_draft_marker(
    previewing_client, url_name, texts
):
    drafts_of_every_kind()

    response = previewing_client.get(reverse(url_name))

    assert response.status_code == 200
    assert PREVIEW_BANNER in response.text
    assert marker("Draft") in response.text
    for text in texts:
        assert text in response.text


def test_home_page_in_preview_counts_drafts_in_the_totals_and_headline_figures(previewing_client):
    CommitmentFactory(title="Draft figure", amount=10, currency="USD", publication_status=DRAFT)

    response = previewing_client.get(reverse("policy:home"))

    assert response.context["commitment_total"] == 1
    assert [str(c) for c in response.context["headline_commitments"]] == ["Draft figure"]


def test_preview_marks_each_record_with_what_keeps_it_from_the_public(previewing_client):
    now = timezone.now()
    day = datetime.timedelta(days=1)
    CommitmentFactory(title="Public pledge")
    CommitmentFactory(title="Pledge under review", publication_status=PublicationStatus.IN_REVIEW)
    CommitmentFactory(title="Archived pledge", publication_status=PublicationStatus.ARCHIVED)
    CommitmentFactory(title="Pledge for tomorrow", publish_at=now + day)
    CommitmentFactory(title="Pledge of yesterday", unpublish_at=now - day)

    response = previewing_client.get(reverse("policy:commitment_list"))

    text = response.text
    for title, state in [
        ("Pledge under review", "In review"),
        ("Archived pledge", "Archived"),
        ("Pledge for tomorrow", "Scheduled"),
        ("Pledge of yesterday", "Expired"),
    ]:
        assert f"{title}</a> {marker(state)}" in text
    assert text.count('class="publication-state"') == 4


def test_preview_shows_draft_plan_components_focus_areas_and_sources_on_a_commitment_page(
    previewing_client,
):
    commitment = CommitmentFactory(
        part_of=CommitmentFactory(title="Draft plan", publication_status=DRAFT)
    )
    CommitmentFactory(title="Draft component", part_of=commitment, publication_status=DRAFT)
    commitment.focus_areas.add(FocusAreaFactory(name="Draft area", publication_status=DRAFT))
    draft_article = ArticleFactory(title="Draft article", publication_status=DRAFT)
    SourceQuoteFactory(commitment=commitment, article=draft_article, text="A draft sentence.")
    StatusUpdateFactory(
        commitment=commitment,
        source_article=draft_article,
        source_quote="First paragraph with a pledge of 500 scholarships.",
    )

    response = previewing_client.get(commitment.get_absolute_url())

    for text in ("Draft plan", "Draft component", "Draft area", "A draft sentence."):
        assert text in response.text
    assert f'{draft_article.get_absolute_url()}" lang="en">Draft article</a> {marker("Draft")}' in (
        response.text
    )
    assert PREVIEW_BANNER in response.text


@pytest.mark.parametrize("is_previewing", [False, True])
def test_a_record_fetched_with_another_is_shown_as_the_lists_would_show_it(
    rf, staff, is_previewing
):
    now = timezone.now()
    hour = datetime.timedelta(hours=1)
    records = [
        ArticleFactory(),
        ArticleFactory(publication_status=DRAFT),
        ArticleFactory(publication_status=PublicationStatus.IN_REVIEW),
        ArticleFactory(publication_status=PublicationStatus.ARCHIVED),
        ArticleFactory(publish_at=now + hour),
        ArticleFactory(publish_at=now - hour, unpublish_at=now - hour / 2),
    ]
    request = rf.get("/")
    request.user = staff
    request.session = {SESSION_KEY: is_previewing}

    visible = set(preview.visible(request, Article))
    shown = {record for record in records if preview.shown(request, record) is record}

    assert shown == visible & set(records)
    assert len(shown) == (len(records) if is_previewing else 1)
    assert preview.shown(request, None) is None


def test_preview_shows_draft_commitments_on_article_focus_area_and_country_pages(
    previewing_client,
):
    article, focus_area, country = ArticleFactory(), FocusAreaFactory(), CountryFactory()
    draft = CommitmentFactory(title="Draft pledge", publication_status=DRAFT)
    SourceQuoteFactory(article=article, commitment=draft)
    focus_area.commitments.add(draft)
    country.commitments.add(draft)

    for record in (article, focus_area, country):
        response = previewing_client.get(record.get_absolute_url())

        assert "Draft pledge" in response.text, record
        assert marker("Draft") in response.text, record
        assert PREVIEW_BANNER in response.text, record


def test_preview_counts_draft_commitments_of_focus_areas_and_countries(previewing_client):
    focus_area, country = FocusAreaFactory(), CountryFactory()
    draft = CommitmentFactory(publication_status=DRAFT)
    focus_area.commitments.add(draft)
    country.commitments.add(draft)

    areas = previewing_client.get(reverse("policy:focusarea_list"))
    countries = previewing_client.get(reverse("policy:country_list"))

    assert areas.context["object_list"][0].commitment_count == 1
    assert countries.context["object_list"][0].commitment_count == 1


def test_preview_offers_draft_focus_areas_in_the_commitment_filters(previewing_client):
    area = FocusAreaFactory(name="Draft area", slug="hidden", publication_status=DRAFT)
    area.commitments.add(CommitmentFactory(title="Pledge in a draft area"))

    response = previewing_client.get(f"{reverse('policy:commitment_list')}?focus_area=hidden")

    assert "Some filters could not be applied" not in response.text
    assert [str(c) for c in response.context["object_list"]] == ["Pledge in a draft area"]


# Outside preview mode


def test_staff_outside_preview_sees_exactly_what_the_public_sees(staff_client):
    drafts_of_every_kind()

    for url_name in ("policy:home", "policy:commitment_list", "policy:focusarea_list"):
        response = staff_client.get(reverse(url_name))

        for text in ("Draft pledge", "Draft article", "Draft area", PREVIEW_BANNER, "Preview:"):
            assert text not in response.text, url_name
        assert "no-store" not in response.get("Cache-Control", ""), url_name


@pytest.mark.parametrize("factory", [ArticleFactory, CommitmentFactory, FocusAreaFactory])
@pytest.mark.parametrize(
    ("state", "fields"),
    [
        ("Draft", {"publication_status": DRAFT}),
        ("In review", {"publication_status": PublicationStatus.IN_REVIEW}),
        ("Archived", {"publication_status": PublicationStatus.ARCHIVED}),
        ("Scheduled", {"publish_at": timezone.now() + datetime.timedelta(days=1)}),
    ],
)
def test_staff_open_an_unpublished_record_page_with_the_banner_and_anonymous_get_404(
    staff_client, factory, state, fields
):
    record = factory(**fields)

    response = staff_client.get(record.get_absolute_url())
    anonymous = Client().get(record.get_absolute_url())

    assert response.status_code == 200
    assert RECORD_BANNER in response.text
    assert marker(state) in response.text
    assert 'name="preview" value="on">Preview the whole site</button>' in response.text
    assert anonymous.status_code == 404


def test_staff_who_may_not_view_a_model_get_404_for_its_unpublished_record(
    client, django_user_model
):
    draft = CommitmentFactory(publication_status=DRAFT)
    client.force_login(make_user(django_user_model, "arturo", can_view=("article",)))

    assert client.get(draft.get_absolute_url()).status_code == 404


def test_published_record_page_for_staff_outside_preview_has_no_banner(staff_client):
    response = staff_client.get(CommitmentFactory().get_absolute_url())

    assert "Preview:" not in response.text
    assert "X-Robots-Tag" not in response


# Caches and search engines


@pytest.mark.parametrize(
    "url_name",
    ["policy:home", "policy:commitment_list", "policy:article_list", "policy:country_list"],
)
def test_preview_pages_are_neither_stored_nor_indexed(previewing_client, url_name):
    response = previewing_client.get(reverse(url_name))

    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert response["X-Robots-Tag"] == "noindex"


def test_unpublished_record_page_is_neither_stored_nor_indexed(staff_client):
    response = staff_client.get(ArticleFactory(publication_status=DRAFT).get_absolute_url())

    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert response["X-Robots-Tag"] == "noindex"


def test_public_pages_leave_caching_and_indexing_alone(client):
    for url in (reverse("policy:home"), CommitmentFactory().get_absolute_url()):
        response = client.get(url)

        assert "Cache-Control" not in response
        assert "X-Robots-Tag" not in response


# Query counts


def fill_drafts(count):
    for _ in range(count):
        commitment = CommitmentFactory(amount=100, currency="CNY", publication_status=DRAFT)
        StatusUpdateFactory(commitment=commitment)
        SourceQuoteFactory(commitment=commitment, article__publication_status=DRAFT)
        AuthorshipFactory(article=ArticleFactory(publication_status=DRAFT))
        FocusAreaFactory(publication_status=DRAFT).commitments.add(commitment)


@pytest.mark.parametrize(
    "url_name",
    ["policy:home", "policy:commitment_list", "policy:article_list", "policy:focusarea_list"],
)
def test_preview_query_count_does_not_grow_with_drafts(previewing_client, url_name):
    url = reverse(url_name)
    fill_drafts(3)
    with CaptureQueriesContext(connection) as few:
        previewing_client.get(url)
    fill_drafts(20)
    with CaptureQueriesContext(connection) as many:
        previewing_client.get(url)

    assert len(many) == len(few)
