"""The operator admin's site: Django's, with every model admin's change list made safe
against lookups that only fail once the database runs them.

The admin accepts any lookup on a model's own fields in the query string
(`?created_at__year=99999`, `?name__regex=(((`). Django turns the errors it meets while
building the query into its "invalid lookup" redirect (`?e=1`), but a year out of range or a
pattern the database cannot compile only fails when the rows are read, and answered 500.
"""

from __future__ import annotations

import contextlib

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import DataError, OperationalError, connections, router, transaction

# What reading a change list raises for a bad lookup value: ValueError/OverflowError from
# date bounds, DataError (PostgreSQL) or OperationalError (SQLite's regexp) from the query.
BAD_LOOKUP_ERRORS = (ValueError, OverflowError, DataError, OperationalError)


class ReadableChangeListMixin:
    """Reads the change list's rows while its lookups can still be refused."""

    def get_changelist_instance(self, request):
        alias = router.db_for_read(self.model)
        # Inside a transaction, a query PostgreSQL refused aborts it: a savepoint keeps the
        # rest of the request working. In autocommit (the admin's usual case) none is needed.
        guard = (
            transaction.atomic(using=alias)
            if connections[alias].in_atomic_block
            else contextlib.nullcontext()
        )
        with guard:
            try:
                changelist = super().get_changelist_instance(request)
                len(changelist.result_list)  # evaluated (and cached) here, not in the template
            except BAD_LOOKUP_ERRORS as exc:
                raise IncorrectLookupParameters(exc) from exc
        return changelist


class ToraleAdminSite(admin.AdminSite):
    site_header = "Torale operations"
    site_title = "Torale admin"
    index_title = "Tasks, runs, notifications and accounts"

    def register(self, model_or_iterable, admin_class=None, **options):
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, ReadableChangeListMixin):
            base = type(
                base.__name__, (ReadableChangeListMixin, base), {"__module__": base.__module__}
            )
        super().register(model_or_iterable, base, **options)
