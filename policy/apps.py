from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policy"
    verbose_name = _("China–Latin America policy tracker")

    def ready(self):
        from policy import signals  # noqa: F401
