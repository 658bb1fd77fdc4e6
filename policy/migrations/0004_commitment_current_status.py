"""The current status of a commitment as a column, filled from the latest status updates.

Lists filter, sort and count commitments by it; computing it in every query was slow.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def store_current_status(apps, schema_editor):
    # The rule of CommitmentQuerySet.refresh_current_status, written out as a migration must be.
    Commitment = apps.get_model("policy", "Commitment")
    StatusUpdate = apps.get_model("policy", "StatusUpdate")
    latest = StatusUpdate.objects.filter(commitment=OuterRef("pk")).order_by("-date", "-pk")
    Commitment.objects.using(schema_editor.connection.alias).update(
        current_status=Coalesce(Subquery(latest.values("status")[:1]), Value("not_yet_rated"))
    )


class Migration(migrations.Migration):
    dependencies = [("policy", "0003_search_indexes")]

    operations = [
        migrations.AddField(
            model_name="commitment",
            name="current_status",
            field=models.CharField(
                choices=[
                    ("not_yet_rated", "Not yet rated"),
                    ("in_the_works", "In the works"),
                    ("stalled", "Stalled"),
                    ("compromise", "Compromise"),
                    ("kept", "Kept"),
                    ("broken", "Broken"),
                ],
                default="not_yet_rated",
                editable=False,
                max_length=20,
                verbose_name="current status",
            ),
        ),
        # Going back, the column goes with its field: there is nothing to undo.
        migrations.RunPython(store_current_status, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(fields=["current_status"], name="policy_commitment_status"),
        ),
    ]
