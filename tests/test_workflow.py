"""The editorial workflow: roles, transitions, scheduling, history, conflicts, dashboard."""

import datetime

import pytest
import reversion
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from policy.models import Article, Commitment, FocusArea, PublicationStatus, SourceQuote
from policy.services import change_publication_status
from policy.workflow import WorkflowPermissionDenied
from tests.admin_forms import admin_url, change_form_data
from tests.factories import (
    ArticleFactory,
    CommitmentFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
    editorial_group,
)

pytestmark = pytest.mark.django_db

DRAFT, IN_REVIEW, PUBLISHED, ARCHIVED = (
    PublicationStatus.DRAFT,
    PublicationStatus.IN_REVIEW,
    PublicationStatus.PUBLISHED,
    PublicationStatus.ARCHIVED,
)
MOMENT = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
TICK = datetime.timedelta(microseconds=1)


def publication_statuses(*records):
    return [type(r).objects.get(pk=r.pk).publication_status for r in records]


@pytest.fixture
def frozen_now(monkeypatch):
    def freeze(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return freeze


class TestRoles:
    def test_the_groups_separate_editing_from_publishing(self):
        editor = set(editorial_group("Editor").permissions.values_list("codename", flat=True))
        publisher = set(editorial_group("Publisher").permissions.values_list("codename", flat=True))
        assert {"add_commitment", "change_commitment", "add_statusupdate"} <= editor
        assert not {p for p in editor if p.startswith(("publish_", "delete_commitment"))}
        assert editor < publisher
        assert {"publish_article", "publish_commitment", "publish_focusarea"} <= publisher

    @pytest.mark.parametrize("factory", [ArticleFactory, CommitmentFactory, FocusAreaFactory])
    def test_an_editor_may_submit_for_review_but_not_publish(self, editor, factory):
        record = factory(publication_status=DRAFT)
        assert change_publication_status(
            records=[record], transition="submit_for_review", user=editor, via="test"
        )
        with pytest.raises(WorkflowPermissionDenied, match="Only a Publisher"):
            change_publication_status(records=[record], transition="publish", user=editor, via="t")
        assert publication_statuses(record) == [IN_REVIEW]

    @pytest.mark.parametrize("transition", ["unpublish", "archive"])
    def test_an_editor_may_not_unpublish_or_archive(self, editor, transition):
        record = CommitmentFactory(publication_status=PUBLISHED)
        with pytest.raises(WorkflowPermissionDenied):
            change_publication_status(records=[record], transition=transition, user=editor, via="t")
        assert publication_statuses(record) == [PUBLISHED]

    def test_a_refused_bulk_transition_changes_none_of_the_records(self, editor):
        draft = CommitmentFactory(publication_status=DRAFT)
        review = CommitmentFactory(publication_status=IN_REVIEW)
        with pytest.raises(WorkflowPermissionDenied):
            change_publication_status(
                records=[draft, review], transition="publish", user=editor, via="t"
            )
        assert publication_statuses(draft, review) == [DRAFT, IN_REVIEW]


class TestTransitions:
    @pytest.mark.parametrize(
        ("transition", "before", "after"),
        [
            ("submit_for_review", DRAFT, IN_REVIEW),
            ("publish", DRAFT, PUBLISHED),
            ("publish", IN_REVIEW, PUBLISHED),
            ("publish", ARCHIVED, PUBLISHED),
            ("unpublish", PUBLISHED, DRAFT),
            ("archive", DRAFT, ARCHIVED),
            ("archive", IN_REVIEW, ARCHIVED),
            ("archive", PUBLISHED, ARCHIVED),
        ],
    )
    def test_each_transition_moves_a_record_and_records_it_in_history(
        self, publisher, transition, before, after
    ):
        record = CommitmentFactory(publication_status=before)
        changed = change_publication_status(
            records=[record], transition=transition, user=publisher, via="admin"
        )
        assert changed == 1
        assert publication_statuses(record) == [after]
        version = Version.objects.get_for_object(record).first()
        assert version.revision.user == publisher
        assert "(admin)" in version.revision.get_comment()

    @pytest.mark.parametrize(
        ("transition", "state"),
        [("submit_for_review", IN_REVIEW), ("submit_for_review", PUBLISHED), ("unpublish", DRAFT)],
    )
    def test_a_transition_leaves_records_it_does_not_apply_to(self, publisher, transition, state):
        record = CommitmentFactory(publication_status=state)
        assert not change_publication_status(
            records=[record], transition=transition, user=publisher, via="t"
        )
        assert publication_statuses(record) == [state]

    def test_publishing_sets_the_first_publication_time_once(self, publisher):
        record = ArticleFactory(publication_status=DRAFT)
        change_publication_status(records=[record], transition="publish", user=publisher, via="t")
        first = Article.objects.get(pk=record.pk).first_published_at
        record.refresh_from_db()
        change_publication_status(records=[record], transition="unpublish", user=publisher, via="t")
        change_publication_status(records=[record], transition="publish", user=publisher, via="t")
        assert first is not None
        assert Article.objects.get(pk=record.pk).first_published_at == first


class TestScheduling:
    @pytest.mark.parametrize("model_factory", [ArticleFactory, CommitmentFactory, FocusAreaFactory])
    def test_a_scheduled_record_appears_exactly_at_publish_at(self, frozen_now, model_factory):
        record = model_factory(publish_at=MOMENT)
        model = type(record)
        frozen_now(MOMENT - TICK)
        assert not model.objects.published().filter(pk=record.pk).exists()
        assert not record.is_published
        frozen_now(MOMENT)
        assert model.objects.published().filter(pk=record.pk).exists()
        assert record.is_published

    def test_an_expiring_record_disappears_exactly_at_unpublish_at(self, frozen_now):
        record = CommitmentFactory(unpublish_at=MOMENT)
        frozen_now(MOMENT - TICK)
        assert Commitment.objects.published().filter(pk=record.pk).exists()
        assert record.is_published
        frozen_now(MOMENT)
        assert not Commitment.objects.published().filter(pk=record.pk).exists()
        assert not record.is_published

    def test_a_schedule_only_applies_to_published_records(self, frozen_now):
        CommitmentFactory(publication_status=IN_REVIEW, publish_at=MOMENT)
        frozen_now(MOMENT + datetime.timedelta(days=1))
        assert not Commitment.objects.published().exists()

    def test_a_scheduled_record_is_listed_as_scheduled_until_it_is_live(self, frozen_now):
        record = FocusAreaFactory(publish_at=MOMENT)
        frozen_now(MOMENT - TICK)
        assert list(FocusArea.objects.scheduled()) == [record]
        frozen_now(MOMENT + TICK)
        assert not FocusArea.objects.scheduled().exists()

    def test_unpublish_must_come_after_publish(self):
        record = CommitmentFactory.build(publish_at=MOMENT, unpublish_at=MOMENT)
        with pytest.raises(Exception, match="unpublished after"):
            record.full_clean()


class TestAdminRoles:
    def test_an_editor_choosing_published_gets_a_clear_refusal_and_keeps_the_input(
        self, editor_client
    ):
        record = CommitmentFactory(publication_status=DRAFT, title="Old title")
        url = admin_url(Commitment, "change", record.pk)
        data = change_form_data(
            editor_client.get(url), title="New title", publication_status=PUBLISHED
        )
        response = editor_client.post(url, data)
        assert response.status_code == 200
        assert "Only a Publisher can publish or archive a commitment" in response.content.decode()
        assert 'value="New title"' in response.content.decode()
        assert Commitment.objects.get(pk=record.pk).title == "Old title"

    def test_an_editor_cannot_schedule(self, editor_client):
        record = ArticleFactory(publication_status=DRAFT)
        url = admin_url(Article, "change", record.pk)
        data = change_form_data(
            editor_client.get(url), publish_at_0="2030-01-01", publish_at_1="09:00:00"
        )
        response = editor_client.post(url, data)
        assert "Only a Publisher can schedule" in response.content.decode()
        assert Article.objects.get(pk=record.pk).publish_at is None

    def test_an_editor_may_save_a_draft_and_submit_it_for_review(self, editor_client):
        record = CommitmentFactory(publication_status=DRAFT)
        url = admin_url(Commitment, "change", record.pk)
        data = change_form_data(
            editor_client.get(url), title="Better title", publication_status=IN_REVIEW
        )
        assert editor_client.post(url, data).status_code == 302
        saved = Commitment.objects.get(pk=record.pk)
        assert (saved.title, saved.publication_status) == ("Better title", IN_REVIEW)

    def test_a_published_record_is_read_only_for_an_editor(self, editor_client):
        record = CommitmentFactory(publication_status=PUBLISHED, title="Live title")
        url = admin_url(Commitment, "change", record.pk)
        response = editor_client.get(url)
        assert "only a Publisher can change it" in response.content.decode()
        assert 'name="title"' not in response.content.decode()
        editor_client.post(url, {**change_form_data(response), "title": "Sneaky"})
        assert Commitment.objects.get(pk=record.pk).title == "Live title"

    def test_an_editor_may_add_a_status_update_to_a_published_commitment(self, editor_client):
        record = CommitmentFactory(publication_status=PUBLISHED)
        url = admin_url(Commitment, "change", record.pk)
        data = change_form_data(
            editor_client.get(url),
            **{
                "status_updates-TOTAL_FORMS": "1",
                "status_updates-0-date": "2026-01-15",
                "status_updates-0-status": "stalled",
                "status_updates-0-note": "Work has stopped.",
                "status_updates-0-source_url": "https://news.example.net/report",
            },
        )
        assert editor_client.post(url, data).status_code == 302
        assert Commitment.objects.get(pk=record.pk).current_status == "stalled"

    def test_an_editor_cannot_change_the_quotes_of_a_published_commitment(self, editor_client):
        quote = SourceQuoteFactory(commitment__publication_status=PUBLISHED)
        response = editor_client.get(admin_url(Commitment, "change", quote.commitment.pk))
        assert 'name="quotes-0-text"' not in response.content.decode()

    def test_a_publisher_publishes_and_schedules_from_the_form(self, publisher_client):
        record = CommitmentFactory(publication_status=IN_REVIEW)
        url = admin_url(Commitment, "change", record.pk)
        data = change_form_data(
            publisher_client.get(url),
            publication_status=PUBLISHED,
            publish_at_0="2030-01-01",
            publish_at_1="09:00:00",
        )
        assert publisher_client.post(url, data).status_code == 302
        saved = Commitment.objects.get(pk=record.pk)
        assert saved.publication_status == PUBLISHED
        assert saved.publish_at == datetime.datetime(2030, 1, 1, 9, tzinfo=datetime.UTC)
        assert not Commitment.objects.published().filter(pk=record.pk).exists()


class TestBulkActions:
    @pytest.mark.parametrize("action", ["publish", "archive", "unpublish"])
    def test_an_editor_using_a_publishers_action_is_refused_and_nothing_changes(
        self, editor_client, action
    ):
        records = [CommitmentFactory(publication_status=IN_REVIEW) for _ in range(2)]
        records.append(CommitmentFactory(publication_status=PUBLISHED))
        response = editor_client.post(
            admin_url(Commitment, "changelist"),
            {"action": action, "_selected_action": [r.pk for r in records]},
            follow=True,
        )
        assert "only a Publisher" in response.content.decode().replace("Only a", "only a")
        assert publication_statuses(*records) == [IN_REVIEW, IN_REVIEW, PUBLISHED]

    def test_an_editor_submits_drafts_for_review_in_bulk(self, editor_client):
        records = [ArticleFactory(publication_status=DRAFT) for _ in range(3)]
        response = editor_client.post(
            admin_url(Article, "changelist"),
            {"action": "submit_for_review", "_selected_action": [r.pk for r in records]},
            follow=True,
        )
        assert "3 articles submitted for review." in response.content.decode()
        assert publication_statuses(*records) == [IN_REVIEW] * 3

    def test_a_publisher_publishes_in_bulk_and_history_records_it(
        self, publisher_client, publisher
    ):
        records = [FocusAreaFactory(publication_status=IN_REVIEW) for _ in range(2)]
        response = publisher_client.post(
            admin_url(FocusArea, "changelist"),
            {"action": "publish", "_selected_action": [r.pk for r in records]},
            follow=True,
        )
        assert "2 focus areas published." in response.content.decode()
        assert publication_statuses(*records) == [PUBLISHED, PUBLISHED]
        for record in records:
            assert Version.objects.get_for_object(record).first().revision.user == publisher


class TestEditConflicts:
    def test_the_second_of_two_concurrent_edits_is_refused_and_keeps_its_input(
        self, publisher_client, client, django_user_model
    ):
        record = CommitmentFactory(title="Original")
        url = admin_url(Commitment, "change", record.pk)
        other = django_user_model.objects.create_superuser("olga", password="x")
        client.force_login(other)
        first_form = change_form_data(client.get(url), title="First edit")
        second_form = change_form_data(publisher_client.get(url), title="Second edit")

        assert client.post(url, first_form).status_code == 302
        response = publisher_client.post(url, second_form)

        page = response.content.decode()
        assert response.status_code == 200
        assert "was changed by olga" in page
        assert "your changes were not saved" in page
        assert 'value="Second edit"' in page
        assert Commitment.objects.get(pk=record.pk).title == "First edit"

    def test_saving_again_after_reloading_succeeds(self, publisher_client):
        record = CommitmentFactory(title="Original")
        url = admin_url(Commitment, "change", record.pk)
        publisher_client.post(url, change_form_data(publisher_client.get(url), title="One"))
        response = publisher_client.post(
            url, change_form_data(publisher_client.get(url), title="Two")
        )
        assert response.status_code == 302
        assert Commitment.objects.get(pk=record.pk).title == "Two"


class TestHistory:
    def edit(self, client, record, **changes):
        url = admin_url(type(record), "change", record.pk)
        response = client.post(url, change_form_data(client.get(url), **changes))
        assert response.status_code == 302, response.context["adminform"].form.errors

    def test_every_admin_save_records_who_and_what(self, publisher_client, publisher):
        record = CommitmentFactory(title="Before")
        self.edit(publisher_client, record, title="After")
        version = Version.objects.get_for_object(record).first()
        assert version.revision.user == publisher
        assert version.field_dict["title"] == "After"

    def test_the_history_compares_two_versions(self, publisher_client):
        record = CommitmentFactory(title="Before")
        self.edit(publisher_client, record, title="Middle")
        self.edit(publisher_client, record, title="After")
        newer, older = Version.objects.get_for_object(record)[:2]
        assert publisher_client.get(admin_url(Commitment, "history", record.pk)).status_code == 200
        response = publisher_client.get(
            admin_url(Commitment, "compare", record.pk),
            {"version_id1": older.pk, "version_id2": newer.pk},
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "Middle" in page
        assert "After" in page

    def test_reverting_restores_an_earlier_version_with_its_quotes(self, publisher_client):
        quote = SourceQuoteFactory(commitment__title="Before")
        record = quote.commitment
        with reversion.create_revision():
            record.save()
        old = Version.objects.get_for_object(record).first()
        self.edit(publisher_client, record, title="After", **{"quotes-0-DELETE": "on"})
        assert not SourceQuote.objects.filter(commitment=record).exists()

        url = admin_url(Commitment, "revision", record.pk, old.pk)
        response = publisher_client.post(url, change_form_data(publisher_client.get(url)))

        assert response.status_code == 302
        restored = Commitment.objects.get(pk=record.pk)
        assert restored.title == "Before"
        assert SourceQuote.objects.filter(commitment=record).count() == 1
        assert restored.version > Version.objects.get_for_object(record).count() - 1

    def test_a_deleted_commitment_can_be_recovered_from_history(self, publisher_client):
        quote = SourceQuoteFactory(commitment__title="Gone for a moment")
        record = quote.commitment
        delete_url = admin_url(Commitment, "delete", record.pk)
        assert "Are you sure" in publisher_client.get(delete_url).content.decode()
        publisher_client.post(delete_url, {"post": "yes"})
        assert not Commitment.objects.filter(pk=record.pk).exists()

        recover_list = publisher_client.get(admin_url(Commitment, "recoverlist"))
        assert "Gone for a moment" in recover_list.content.decode()
        deleted = Version.objects.get_deleted(Commitment).first()
        url = admin_url(Commitment, "recover", deleted.pk)
        response = publisher_client.post(url, change_form_data(publisher_client.get(url)))

        assert response.status_code == 302
        assert Commitment.objects.get(pk=record.pk).title == "Gone for a moment"
        assert SourceQuote.objects.filter(commitment_id=record.pk).count() == 1

    def test_an_editor_cannot_delete(self, editor_client):
        record = CommitmentFactory(publication_status=DRAFT)
        assert editor_client.get(admin_url(Commitment, "delete", record.pk)).status_code == 403

    def test_an_editor_cannot_revert_a_published_record(self, editor_client):
        record = CommitmentFactory(publication_status=PUBLISHED, title="Live")
        with reversion.create_revision():
            record.save()
        version = Version.objects.get_for_object(record).first()
        response = editor_client.get(
            admin_url(Commitment, "revision", record.pk, version.pk), follow=True
        )
        assert "Only a Publisher can revert" in response.content.decode()


class TestDashboard:
    def test_the_admin_index_lists_what_awaits_review_and_what_is_scheduled(self, publisher_client):
        CommitmentFactory(title="Needs a second look", publication_status=IN_REVIEW)
        ArticleFactory(
            title="Goes live next year", publish_at=timezone.now() + datetime.timedelta(days=365)
        )
        CommitmentFactory(title="Already live")
        page = publisher_client.get(reverse("admin:index")).content.decode()
        review = page[page.index('id="awaiting-review"') : page.index('id="scheduled"')]
        scheduled = page[page.index('id="scheduled"') :]
        assert "Needs a second look" in review
        assert "Goes live next year" in scheduled
        assert "Already live" not in page


def test_the_dashboard_offers_to_preview_the_site(publisher_client):
    page = publisher_client.get(reverse("admin:index")).content.decode()
    assert f'action="{reverse("policy:preview")}"' in page
    assert "Preview the site" in page
