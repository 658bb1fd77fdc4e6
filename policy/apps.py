from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policy"
    verbose_name = _("China–Latin America policy tracker")

    def ready(self):
        import reversion

        from policy.models import (
            Article,
            Authorship,
            Commitment,
            FocusArea,
            SourceQuote,
            StatusUpdate,
        )

        # A version of a record includes its inline parts, so a revert restores them too.
        reversion.register(Authorship)
        reversion.register(SourceQuote)
        reversion.register(StatusUpdate)
        reversion.register(Article, follow=["authorships"])
        reversion.register(Commitment, follow=["quotes", "status_updates"])
        reversion.register(FocusArea)
