"""The changelists of big tables take their unfiltered count from PostgreSQL's planner
estimate instead of a COUNT(*) of the whole table; filtered and small lists stay exact."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions_app.models import Execution, ExecutionStatus, ExecutionTrigger
from torale.admin_paginators import EstimatedCountPaginator, planner_row_estimate

pytestmark = pytest.mark.django_db

EXECUTIONS = "/admin/executions_app/execution/"
ROWS = 3000


@pytest.fixture
def many_runs(task):
    """ROWS finished runs of one task, and fresh planner statistics for the table."""
    Execution.objects.bulk_create(
        Execution(task=task, trigger=ExecutionTrigger.MANUAL, status=ExecutionStatus.SUCCESS)
        for _ in range(ROWS)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Execution._meta.db_table}")
    return task


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_threshold", 1000)


def counts_of_executions(queries) -> list[str]:
    return [
        q["sql"] for q in queries if "COUNT(" in q["sql"] and Execution._meta.db_table in q["sql"]
    ]


def test_a_large_unfiltered_list_uses_the_planner_estimate(admin_client, many_runs, low_threshold):
    estimate = planner_row_estimate(Execution.objects.all())
    assert estimate is not None and abs(estimate - ROWS) < ROWS * 0.2

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(EXECUTIONS)

    assert response.context["cl"].result_count == estimate
    assert counts_of_executions(captured.captured_queries) == []
    assert any("reltuples" in q["sql"] for q in captured.captured_queries)
    assert len(response.context["cl"].result_list) == 100  # still paginated


def test_a_filtered_list_counts_exactly(admin_client, many_runs, low_threshold):
    response = admin_client.get(EXECUTIONS, {"status__exact": "success"})

    assert response.context["cl"].result_count == ROWS


def test_below_the_threshold_the_count_is_exact(admin_client, many_runs):
    # The default threshold (100,000) is far above this table.
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(EXECUTIONS)

    assert response.context["cl"].result_count == ROWS
    assert len(counts_of_executions(captured.captured_queries)) == 1


def test_only_whole_tables_get_an_estimate(many_runs):
    assert planner_row_estimate(Execution.objects.filter(status="failed")) is None
    assert planner_row_estimate(Execution.objects.all()[:10]) is None
    assert planner_row_estimate(Execution.objects.values("task").distinct()) is None
