from django.urls import re_path

from executions_app.api import ExecutionViewSet

executions = ExecutionViewSet.as_view({"get": "list"})
execution = ExecutionViewSet.as_view({"get": "retrieve"})

urlpatterns = [
    re_path(r"^tasks/(?P<task_id>[^/]+)/executions(?:/)?$", executions, name="execution-list"),
    re_path(
        r"^tasks/(?P<task_id>[^/]+)/executions/(?P<id>[^/]+)(?:/)?$",
        execution,
        name="execution-detail",
    ),
]
