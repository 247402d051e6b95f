"""Executions API: a task's run history."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from executions_app.models import ExecutionStatus
from executions_app.selectors import execution_get_for_task, execution_list_for_task
from executions_app.serializers import ExecutionListOutputSerializer, ExecutionOutputSerializer
from torale.api.params import page_params, query_choice, raise_if
from torale.api.schema import responses
from torale.api.views import ToraleViewSet

TASK_ID = OpenApiParameter("task_id", OpenApiTypes.UUID, OpenApiParameter.PATH)


@extend_schema(tags=["executions"])
class ExecutionViewSet(ToraleViewSet):
    @extend_schema(
        summary="List a task's executions, newest first",
        parameters=[
            TASK_ID,
            OpenApiParameter("status", str, enum=ExecutionStatus.values),
            OpenApiParameter("page", int, description="Page number (default 1)"),
            OpenApiParameter("limit", int, description="Results per page (default 20, max 100)"),
        ],
        responses=responses({200: ExecutionListOutputSerializer}, 403, 404, 422),
    )
    def list(self, request, task_id=None):
        params = request.query_params
        page, limit, errors = page_params(params)
        status = query_choice(params, "status", ExecutionStatus.values, errors=errors)
        raise_if(errors)
        runs = execution_list_for_task(task_id=task_id, user=request.user, status=status)
        total = runs.count()
        start = (page - 1) * limit
        rows = list(runs[start : start + limit]) if start < total else []
        return Response(
            {
                "executions": ExecutionOutputSerializer(rows, many=True).data,
                "total": total,
                "page": page,
                "limit": limit,
            }
        )

    @extend_schema(
        summary="Get one execution",
        parameters=[TASK_ID, OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH)],
        responses=responses({200: ExecutionOutputSerializer}, 403, 404),
    )
    def retrieve(self, request, task_id=None, id=None):
        execution = execution_get_for_task(task_id=task_id, execution_id=id, user=request.user)
        return Response(ExecutionOutputSerializer(execution).data)
