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
from django.db import DatabaseError, connections, router, transaction
from django.db.models.constants import LOOKUP_SEP

# What reading a change list raises for a bad lookup value: ValueError/OverflowError from
# date bounds, IndexError from a __range that is not two values, and from the database a
# pattern it cannot compile, a lookup its backend lacks (JSON on SQLite), a wrong type.
BAD_LOOKUP_ERRORS = (ValueError, OverflowError, IndexError, DatabaseError)
# Fields nobody filters on from the query string: a prefix lookup would probe a hash or a
# ciphertext character by character (Django already refuses `password` through relations).
SECRET_FIELDS = frozenset({"password", "key_hash", "secret", "target"})


class ReadableChangeListMixin:
    """Reads the change list's rows while its lookups can still be refused, and refuses
    lookups on secret fields."""

    def lookup_allowed(self, lookup, value, request=None):
        if SECRET_FIELDS.intersection(lookup.split(LOOKUP_SEP)):
            return False
        return super().lookup_allowed(lookup, value, request)

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
