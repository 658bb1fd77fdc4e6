"""Editors saving the same record at the same moment, on PostgreSQL: exactly one save of a
version wins, the others are told of the conflict, and no change is lost or silently undone.

Each editor is a thread with its own database connection, as each app server worker has. Where
the order matters, the first save is held inside its transaction, its row locked, until the
second is seen waiting for that lock in pg_stat_activity: the two then overlap for certain,
not by chance.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models.signals import post_save
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from reversion.models import Version

from policy import services
from policy.models import Commitment, PublicationStatus
from policy.workflow import StaleEdit
from tests.admin_forms import admin_url, change_form_data
from tests.factories import CommitmentFactory

pytestmark = [
    # Each test starts from the migrated database, the Editor and Publisher groups included.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite writes one transaction at a time, so no two saves can overlap; "
        "the PostgreSQL leg of CI runs these.",
    ),
]

EDITORS = 6


def in_own_connection(job):
    """The job, closing the thread's database connection when it ends, as a worker would."""

    def run():
        try:
            return job()
        finally:
            connections.close_all()

    return run


def outcome(future):
    """What the job returned, or the exception it raised."""
    return future.exception() or future.result()


class FirstSaveHeld:
    """A post_save receiver that holds the first save of a commitment inside its transaction,
    with the row locked, until released; later saves go through."""

    def __init__(self):
        self.saved = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()
        self.held_one = False

    def __call__(self, **kwargs):
        with self.lock:
            first, self.held_one = not self.held_one, True
        if first:
            self.saved.set()
            self.released.wait(timeout=60)


def wait_until_a_query_waits_for_a_lock():
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    pytest.fail("No query waited for the row that the first save holds.")


def overlapping(first, second):
    """Run `first` until its save of a commitment is held, then `second` until it waits for
    the row; then let both end. Their outcomes, in that order."""
    held = FirstSaveHeld()
    post_save.connect(held, sender=Commitment, weak=False)
    try:
        with ThreadPoolExecutor(2) as pool:
            first_done = pool.submit(in_own_connection(first))
            assert held.saved.wait(timeout=30), outcome(first_done)
            second_done = pool.submit(in_own_connection(second))
            wait_until_a_query_waits_for_a_lock()
            held.released.set()
            return outcome(first_done), outcome(second_done)
    finally:
        held.released.set()
        post_save.disconnect(held, sender=Commitment)


def history_titles(record):
    return [version.field_dict["title"] for version in Version.objects.get_for_object(record)]


def test_a_save_of_the_same_version_waits_for_the_first_and_is_refused(publisher, editor):
    record = CommitmentFactory(title="Original", publication_status=PublicationStatus.DRAFT)
    # Both editors opened version 1.
    mine, theirs = Commitment.objects.get(pk=record.pk), Commitment.objects.get(pk=record.pk)

    first, second = overlapping(
        lambda: services.save_record(
            record=mine, changes={"title": "Mine"}, user=publisher, via="test"
        ),
        lambda: services.save_record(
            record=theirs, changes={"title": "Theirs"}, user=editor, via="test"
        ),
    )

    assert isinstance(first, Commitment)
    assert isinstance(second, StaleEdit)
    record.refresh_from_db()
    assert (record.title, record.version) == ("Mine", 2)
    assert history_titles(record) == ["Mine"]


def test_of_editors_saving_the_same_version_at_once_exactly_one_wins(publisher):
    record = CommitmentFactory(title="Original")
    copies = [Commitment.objects.get(pk=record.pk) for _ in range(EDITORS)]
    all_ready = threading.Barrier(EDITORS)

    def save(number):
        all_ready.wait(timeout=30)
        return services.save_record(
            record=copies[number], changes={"title": f"Edit {number}"}, user=publisher, via="test"
        )

    with ThreadPoolExecutor(EDITORS) as pool:
        done = [
            pool.submit(in_own_connection(lambda number=number: save(number)))
            for number in range(EDITORS)
        ]
        outcomes = [outcome(each) for each in done]

    [winner] = [each for each in outcomes if isinstance(each, Commitment)]
    assert sum(isinstance(each, StaleEdit) for each in outcomes) == EDITORS - 1
    record.refresh_from_db()
    assert (record.title, record.version) == (winner.title, 2)
    assert history_titles(record) == [winner.title]


@pytest.fixture
def second_publisher(django_user_model, publisher):
    user = django_user_model.objects.create_user("paula", password="x", is_staff=True)
    user.groups.set(publisher.groups.all())
    return user


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_of_two_admin_forms_of_the_same_version_the_second_is_refused_and_keeps_its_input(
    publisher, second_publisher
):
    record = CommitmentFactory(title="Original")
    url = admin_url(Commitment, "change", record.pk)
    mine, theirs = signed_in(publisher), signed_in(second_publisher)
    my_form = change_form_data(mine.get(url), title="Mine")
    their_form = change_form_data(theirs.get(url), title="Theirs")

    first, second = overlapping(
        lambda: mine.post(url, my_form), lambda: theirs.post(url, their_form)
    )

    assert first.status_code == 302
    assert second.status_code == 200
    page = second.content.decode()
    assert "was changed by pablo" in page
    assert 'value="Theirs"' in page
    record.refresh_from_db()
    assert (record.title, record.version) == ("Mine", 2)


def test_of_two_api_writes_with_the_same_if_match_the_second_gets_412(publisher, second_publisher):
    record = CommitmentFactory(title="Original")
    url = f"/api/v1/commitments/{record.slug}/"
    clients = []
    for user in publisher, second_publisher:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        clients.append(client)
    etag = clients[0].get(url)["ETag"]

    def change(client, title):
        return lambda: client.patch(url, {"title": title}, format="json", HTTP_IF_MATCH=etag)

    first, second = overlapping(change(clients[0], "Mine"), change(clients[1], "Theirs"))

    assert first.status_code == 200
    assert second.status_code == 412
    assert second["Content-Type"] == "application/problem+json"
    record.refresh_from_db()
    assert (record.title, record.version) == ("Mine", 2)
    assert history_titles(record) == ["Mine"]


def test_a_bulk_publication_while_an_edit_is_saved_keeps_the_edit(editor, publisher):
    record = CommitmentFactory(title="Original", publication_status=PublicationStatus.DRAFT)
    url = admin_url(Commitment, "change", record.pk)
    editing, publishing = signed_in(editor), signed_in(publisher)
    form = change_form_data(editing.get(url), title="Edited")

    first, second = overlapping(
        lambda: editing.post(url, form),
        lambda: publishing.post(
            admin_url(Commitment, "changelist"),
            {"action": "publish", "_selected_action": [record.pk]},
        ),
    )

    assert (first.status_code, second.status_code) == (302, 302)
    record.refresh_from_db()
    assert record.title == "Edited"
    assert record.publication_status == PublicationStatus.PUBLISHED
    assert record.version == 3
    assert history_titles(record) == ["Edited", "Edited"]
