"""Django's loaddata, storing the commitments' current status once, after the last record."""

from django.core.management.commands import loaddata

from policy.signals import statuses_stored_once


class Command(loaddata.Command):
    def loaddata(self, fixture_labels):
        # Within loaddata's transaction: a fixture that fails to load stores nothing.
        with statuses_stored_once(using=self.using):
            super().loaddata(fixture_labels)
