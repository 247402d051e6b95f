from rest_framework.routers import SimpleRouter

from tasks_app.api import TaskViewSet

OPTIONAL_SLASH = "(?:/)?"


class OptionalSlashRouter(SimpleRouter):
    """Every path answers with and without a trailing slash, without a redirect.

    The optional slash is a non-capturing group rather than `/?` so that the OpenAPI schema
    shows the reference's paths (`/api/v1/tasks`, not `/api/v1/tasks/`): the schema generator
    drops non-capturing groups but keeps a bare `/`.
    """

    def __init__(self):
        super().__init__()
        self.trailing_slash = OPTIONAL_SLASH


router = OptionalSlashRouter()
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = router.urls
