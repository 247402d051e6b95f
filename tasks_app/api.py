"""The Tasks API (shared/seeds reference): thin views over the task services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from executions_app.services import execution_request_manual
from tasks_app import serializers as s
from tasks_app.evaluation import task_preview, task_suggest
from tasks_app.selectors import task_get_for_user, task_list_for_user
from tasks_app.services import task_create, task_delete, task_update
from torale.api.params import page_params, query_bool, raise_if
from torale.api.schema import responses
from torale.api.views import ToraleViewSet

TASK_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# PUT and PATCH are one operation: both apply only the fields sent.
_UPDATE_SCHEMA = {
    "parameters": [TASK_ID],
    "request": s.TaskUpdateInputSerializer,
    "responses": responses({200: s.TaskOutputSerializer}, 400, 403, 404, 422),
}


@extend_schema(tags=["tasks"])
class TaskViewSet(ToraleViewSet):
    lookup_field = "id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        summary="List tasks",
        parameters=[
            OpenApiParameter("active", bool, description="Only active (true) or inactive tasks"),
            OpenApiParameter("page", int, description="Page number (default 1)"),
            OpenApiParameter("limit", int, description="Results per page (default 20, max 100)"),
        ],
        responses=responses({200: s.TaskListOutputSerializer}, 422),
    )
    def list(self, request):
        params = request.query_params
        page, limit, errors = page_params(params)
        active = query_bool(params, "active", errors=errors)
        raise_if(errors)
        tasks = task_list_for_user(user=request.user, active=active)
        total = tasks.count()
        start = (page - 1) * limit
        rows = list(tasks[start : start + limit]) if start < total else []
        return Response(
            {
                "tasks": s.TaskOutputSerializer(rows, many=True).data,
                "total": total,
                "page": page,
                "limit": limit,
            }
        )

    @extend_schema(
        summary="Create task",
        request=s.TaskCreateInputSerializer,
        responses=responses({201: s.TaskOutputSerializer}, 422),
    )
    def create(self, request):
        data = _validated(s.TaskCreateInputSerializer, request.data)
        task = task_create(owner=request.user, **data)
        return Response(s.TaskOutputSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Get task",
        parameters=[TASK_ID],
        responses=responses({200: s.TaskOutputSerializer}, 403, 404),
    )
    def retrieve(self, request, id=None):
        task = task_get_for_user(task_id=id, user=request.user)
        return Response(s.TaskOutputSerializer(task).data)

    @extend_schema(summary="Update task (partial: only the fields sent change)", **_UPDATE_SCHEMA)
    def update(self, request, id=None):
        changes = _validated(s.TaskUpdateInputSerializer, request.data)
        task = task_update(task_id=id, user=request.user, changes=changes)
        return Response(s.TaskOutputSerializer(task).data)

    @extend_schema(summary="Update task (the same as PUT)", **_UPDATE_SCHEMA)
    def partial_update(self, request, id=None):
        return self.update(request, id=id)

    @extend_schema(
        summary="Delete task and its scheduled jobs",
        parameters=[TASK_ID],
        responses=responses({204: None}, 403, 404),
    )
    def destroy(self, request, id=None):
        task_delete(task_id=id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Execute task manually",
        parameters=[
            TASK_ID,
            OpenApiParameter(
                "force", bool, description="Cancel a pending or running run and start anew"
            ),
        ],
        request=None,
        responses=responses({202: s.ExecuteOutputSerializer}, 403, 404, 409, 422),
    )
    @action(detail=True, methods=["post"])
    def execute(self, request, id=None):
        errors: list = []
        force = query_bool(request.query_params, "force", errors=errors)
        raise_if(errors)
        execution = execution_request_manual(task_id=id, user=request.user, force=bool(force))
        return Response(
            {"message": "Task execution initiated", "execution_id": str(execution.id)},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary="Preview a query and condition without creating a task",
        request=s.PreviewInputSerializer,
        responses=responses({200: s.PreviewOutputSerializer}, 422, 502, 503, 504),
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        data = _validated(s.PreviewInputSerializer, request.data)
        return Response(task_preview(user=request.user, **data))

    @extend_schema(
        summary="Suggest a task configuration from a plain-language description",
        request=s.SuggestInputSerializer,
        responses=responses({200: s.SuggestOutputSerializer}, 422, 502, 503, 504),
    )
    @action(detail=False, methods=["post"])
    def suggest(self, request):
        data = _validated(s.SuggestInputSerializer, request.data)
        suggestion = task_suggest(
            user=request.user, prompt=data["prompt"], current_task=data.get("current_task")
        )
        return Response(suggestion)
