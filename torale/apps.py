from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ToraleConfig(AppConfig):
    name = "torale"
    verbose_name = "Accounts and API keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Loading the Celery app here (not in torale/__init__.py) keeps `import torale` light
        # while every Django process still publishes with the configured broker.
        from torale import checks  # noqa: F401  (registers system checks)
        from torale.celery import app  # noqa: F401


class ToraleAdminConfig(AdminConfig):
    default_site = "torale.admin_site.ToraleAdminSite"
