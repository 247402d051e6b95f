from rest_framework.routers import SimpleRouter

from tasks_app.api import TaskViewSet


class OptionalSlashRouter(SimpleRouter):
    """Every path answers with and without a trailing slash, without a redirect."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
