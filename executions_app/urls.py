from django.urls import re_path

from executions_app.api import ExecutionViewSet
from executions_app.notification_api import (
    ChannelViewSet,
    NotificationSendViewSet,
    NotificationViewSet,
    TaskChannelViewSet,
    WebhookConfigViewSet,
)

# "(?:/)?": optional trailing slash, left out of the OpenAPI paths (see tasks_app.urls).
executions = ExecutionViewSet.as_view({"get": "list"})
execution = ExecutionViewSet.as_view({"get": "retrieve"})

notifications = NotificationViewSet.as_view({"get": "list"})
task_notifications = NotificationViewSet.as_view({"get": "list_for_task"})
sends = NotificationSendViewSet.as_view({"get": "list"})
send = NotificationSendViewSet.as_view({"get": "retrieve"})
send_retry = NotificationSendViewSet.as_view({"post": "retry"})
webhook_config = WebhookConfigViewSet.as_view(
    {"get": "retrieve", "put": "update", "delete": "destroy"}
)
webhook_test = WebhookConfigViewSet.as_view({"post": "test"})
channels = ChannelViewSet.as_view({"get": "list", "post": "create"})
channel = ChannelViewSet.as_view(
    {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
)
channel_test = ChannelViewSet.as_view({"post": "test"})
channel_rotate_secret = ChannelViewSet.as_view({"post": "rotate_secret"})
task_channels = TaskChannelViewSet.as_view({"get": "retrieve", "put": "update"})

urlpatterns = [
    re_path(r"^tasks/(?P<task_id>[^/]+)/executions(?:/)?$", executions, name="execution-list"),
    re_path(
        r"^tasks/(?P<task_id>[^/]+)/executions/(?P<id>[^/]+)(?:/)?$",
        execution,
        name="execution-detail",
    ),
    re_path(
        r"^tasks/(?P<task_id>[^/]+)/notifications(?:/)?$",
        task_notifications,
        name="task-notification-list",
    ),
    re_path(r"^tasks/(?P<task_id>[^/]+)/channels(?:/)?$", task_channels, name="task-channels"),
    re_path(r"^notifications(?:/)?$", notifications, name="notification-list"),
    re_path(r"^notifications/sends(?:/)?$", sends, name="send-list"),
    re_path(r"^notifications/sends/(?P<id>[^/]+)(?:/)?$", send, name="send-detail"),
    re_path(r"^notifications/sends/(?P<id>[^/]+)/retry(?:/)?$", send_retry, name="send-retry"),
    re_path(r"^notifications/channels(?:/)?$", channels, name="channel-list"),
    re_path(r"^notifications/channels/(?P<id>[^/]+)(?:/)?$", channel, name="channel-detail"),
    re_path(
        r"^notifications/channels/(?P<id>[^/]+)/test(?:/)?$", channel_test, name="channel-test"
    ),
    re_path(
        r"^notifications/channels/(?P<id>[^/]+)/rotate-secret(?:/)?$",
        channel_rotate_secret,
        name="channel-rotate-secret",
    ),
    re_path(r"^webhooks/config(?:/)?$", webhook_config, name="webhook-config"),
    re_path(r"^webhooks/test(?:/)?$", webhook_test, name="webhook-test"),
]
