from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policy"
    verbose_name = _("China–Latin America policy tracker")

    def ready(self):
        from policy import cache, security, signals  # noqa: F401

        cache.invalidate_on_changes_to(self.get_models(include_auto_created=True))
        cache.quiet_repeated_redis_errors()
