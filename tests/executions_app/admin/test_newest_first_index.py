"""The admin's unfiltered lists of runs and deliveries are ordered exactly as an index is, so
that on millions of rows a page is read from the index instead of sorting the whole table.
(Whether the planner uses it depends on table statistics, which a test table cannot have:
what the test pins is that the index exists and matches the list's ORDER BY.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_delivery, make_execution

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_run_with_a_delivery(task):
    make_delivery(make_execution(task, condition_met=True))


def index_definition(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        row = cursor.fetchone()
    assert row, f"no index {name}"
    return row[0]


@pytest.mark.parametrize(
    ("url", "table", "index"),
    [
        ("/admin/executions_app/execution/", "executions_app_execution", "execution_created"),
        ("/admin/executions_app/delivery/", "executions_app_delivery", "delivery_created"),
    ],
)
@pytest.mark.usefixtures("a_run_with_a_delivery")
def test_the_unfiltered_list_is_ordered_as_its_index(admin_client, url, table, index):
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url).status_code == 200

    newest_first = f'ORDER BY "{table}"."created_at" DESC, "{table}"."id" DESC'
    assert any(q["sql"].endswith(newest_first) for q in queries.captured_queries)
    assert index_definition(index).endswith(
        f"ON public.{table} USING btree (created_at DESC, id DESC)"
    )
