"""The Celery application shared by web, worker and beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "torale.settings")

app = Celery("torale")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure_filesystem_broker() -> None:
    """The laptop default: a broker in local folders that separate processes share."""
    from django.conf import settings

    if not str(app.conf.broker_url).startswith("filesystem://"):
        return
    folder = settings.CELERY_BROKER_FOLDER
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    app.conf.broker_transport_options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str((folder / "control").resolve()),
    }


_configure_filesystem_broker()
app.autodiscover_tasks()
