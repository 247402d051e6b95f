"""The task pages. Paths answer with and without a trailing slash (APPEND_SLASH is off for the
API), so a task page is exactly f"{TORALE_BASE_URL}/tasks/{id}" as notifications link it."""

from django.urls import re_path

from tasks_app import views

TASK = r"^tasks/(?P<task_id>[0-9a-fA-F-]{32,36})"
SLASH = "/?$"

urlpatterns = [
    re_path(r"^$", views.dashboard, name="dashboard"),
    re_path(r"^tasks/new" + SLASH, views.task_create_page, name="task-create"),
    re_path(TASK + SLASH, views.task_detail_page, name="task-detail"),
    re_path(TASK + "/edit" + SLASH, views.task_edit_page, name="task-edit"),
    re_path(TASK + "/pause" + SLASH, views.task_pause, name="task-pause"),
    re_path(TASK + "/resume" + SLASH, views.task_resume, name="task-resume"),
    re_path(TASK + "/run" + SLASH, views.task_run, name="task-run"),
    re_path(TASK + "/delete" + SLASH, views.task_delete_page, name="task-delete"),
    re_path(TASK + "/channels" + SLASH, views.task_channels_page, name="task-channels"),
]
