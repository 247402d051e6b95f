"""Admin paginators that stay fast on tables with millions of rows.

The changelist asks its paginator for a count on every page view. On PostgreSQL an exact
COUNT(*) reads the whole table (or index); for the unfiltered list of a large table the
planner's estimate (`pg_class.reltuples`, kept fresh by autovacuum's ANALYZE) is good enough
to draw page links, and costs one catalogue lookup. A filtered list, a small table and any
other database keep the exact count. Pair it with `show_full_result_count = False`, which
stops the admin from counting the unfiltered table a second time.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def planner_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of how many rows `queryset` holds, when it is a whole table
    (no filter, slice, DISTINCT or set operation); None otherwise, on other databases, and
    for a table never analysed."""
    query = queryset.query
    if (
        query.where
        or query.distinct
        or query.combinator
        or query.low_mark
        or query.high_mark is not None
    ):
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        # to_regclass: NULL rather than an error for a missing table.
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    # reltuples is -1 until the first ANALYZE (PostgreSQL 14+); 0 may also mean "never".
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """A paginator whose count of a large unfiltered table is the planner's estimate.

    Below `estimate_threshold` estimated rows the exact count is cheap and is used, so small
    installations and tests see exact numbers.
    """

    estimate_threshold: int = 100_000

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            estimate = planner_row_estimate(self.object_list)
            if estimate is not None and estimate >= self.estimate_threshold:
                return estimate
        return super().count
