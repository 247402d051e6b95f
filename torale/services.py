"""Account services: API keys (create, revoke, authenticate) and users."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cache, lru_cache

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.utils import timezone

from tasks_app.cron import INVALID_TIMEZONE, is_valid_timezone
from torale.errors import Conflict, InvalidTimezone, NotFound
from torale.models import (
    API_KEY_DISPLAY_CHARS,
    API_KEY_PREFIX,
    EMAIL_TAKEN,
    ApiKey,
    User,
    generate_api_key,
    hash_api_key,
    looks_like_api_key,
)


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """Create a key for `user`; returns the row and the raw key, which is never stored."""
    raw = generate_api_key()
    key = ApiKey.objects.create(
        user=user,
        name=name,
        key_prefix=raw[: len(API_KEY_PREFIX) + API_KEY_DISPLAY_CHARS],
        key_hash=hash_api_key(raw),
    )
    return key, raw


def api_key_revoke(*, user: User, key_id: uuid.UUID | str) -> ApiKey:
    """Revoke one of the user's keys; raises NotFound for unknown, foreign or malformed ids."""
    try:
        key_id = uuid.UUID(str(key_id))
    except ValueError:
        raise NotFound("API key not found") from None
    with transaction.atomic():
        key = (
            ApiKey.objects.select_for_update()
            .filter(id=key_id, user=user, revoked_at__isnull=True)
            .first()
        )
        if key is None:
            raise NotFound("API key not found")
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key matching `raw` (with its user loaded), or None.

    The lookup is by SHA-256 digest through a unique index; the raw key never reaches the
    database. last_used_at is written at most once per TORALE_API_KEY_TOUCH_SECONDS so that
    a busy key does not cost one write per request.
    """
    if not looks_like_api_key(raw):
        return None
    key = _active_key_with_user(hash_api_key(raw))
    if key is None:
        return None
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.TORALE_API_KEY_TOUCH_SECONDS)
    if key.last_used_at is None or key.last_used_at < stale_before:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def _active_key_with_user(key_hash: str) -> ApiKey | None:
    """ApiKey.objects.select_related("user").filter(key_hash=key_hash, revoked_at=None,
    user__is_active=True).first(), written out by hand: it runs on every API request, and
    the ORM took longer to compile it than the database took to answer."""
    with connection.cursor() as cursor:
        cursor.execute(_active_key_with_user_sql(), [key_hash, True])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(ApiKey._meta.concrete_fields)
    key = model_from_row(ApiKey, row[:split])
    key.user = model_from_row(User, row[split:])
    return key


@cache
def _active_key_with_user_sql() -> str:
    qn = connection.ops.quote_name

    def column(model: type[models.Model], name: str) -> str:
        return qn(model._meta.get_field(name).column)

    columns = [f"k.{qn(f.column)}" for f in ApiKey._meta.concrete_fields]
    columns += [f"u.{qn(f.column)}" for f in User._meta.concrete_fields]
    # Only names from the models' metadata are interpolated; the values are parameters.
    return (
        f"SELECT {', '.join(columns)} FROM {qn(ApiKey._meta.db_table)} k"  # noqa: S608
        f" JOIN {qn(User._meta.db_table)} u ON u.{column(User, 'id')} = k.{column(ApiKey, 'user')}"
        f" WHERE k.{column(ApiKey, 'key_hash')} = %s AND k.{column(ApiKey, 'revoked_at')} IS NULL"
        f" AND u.{column(User, 'is_active')} = %s"
    )


def model_from_row(model: type[models.Model], values) -> models.Model:
    """An instance of `model` from the column values of its concrete fields (in
    _meta.concrete_fields order), converted as the ORM converts them: for the few
    hand-written queries on the API's hottest paths."""
    db = connections[DEFAULT_DB_ALIAS]
    attnames, converters = _row_loading(model, db)
    if converters:
        values = list(values)
        for position, column, convert in converters:
            values[position] = convert(values[position], column, db)
    return model.from_db(db.alias, attnames, values)


@lru_cache(maxsize=256)
def _row_loading(model: type[models.Model], db) -> tuple[list[str], list[tuple]]:
    """The attribute names of `model`'s concrete fields, and (position, column, converter)
    for each conversion the ORM applies to them on connection `db` (one per thread)."""
    table = model._meta.db_table
    converters = []
    for position, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(table)
        for convert in db.ops.get_db_converters(column) + column.get_db_converters(db):
            converters.append((position, column, convert))
    return [f.attname for f in model._meta.concrete_fields], converters


def user_get_or_create(*, username: str, email: str = "") -> tuple[User, bool]:
    """The user called `username`, created (without a usable password) if missing."""
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, created


def user_timezone_set(*, user: User, timezone: str) -> User:
    """Store the user's time zone preference (the default zone of new tasks).
    Raises InvalidTimezone for a name that is not an IANA zone."""
    if not is_valid_timezone(timezone):
        raise InvalidTimezone(INVALID_TIMEZONE)
    user.timezone = timezone
    user.save(update_fields=["timezone"])
    return user


def user_email_set(*, user: User, email: str) -> User:
    """Change the account's address (notifications and password resets go there). Raises
    Conflict when another account has it, in any case; the database enforces the same."""
    email = User.objects.normalize_email(email.strip())
    try:
        with transaction.atomic():
            if email and User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
                raise Conflict(EMAIL_TAKEN)
            user.email = email
            user.save(update_fields=["email"])
    except IntegrityError as exc:  # taken meanwhile by another request
        raise Conflict(EMAIL_TAKEN) from exc
    return user


def user_delete(*, user: User) -> None:
    """Delete the user with everything they own. Their tasks go through task_delete, which
    also removes each task's PeriodicTask mirror (a cascade from the user would not)."""
    from tasks_app.models import Task  # tasks_app imports this module: import on use
    from tasks_app.services import task_delete

    with transaction.atomic():
        for task_id in Task.objects.filter(owner=user).values_list("pk", flat=True):
            task_delete(task_id=task_id, user=user)
        user.delete()
