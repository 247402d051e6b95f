"""Query parameters validated the way FastAPI reports them (422, loc ["query", name])."""

from __future__ import annotations

import uuid

from torale.api.errors import RequestValidationError

_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n"}


def _error(name: str, msg: str, type_: str, value: str, **ctx) -> dict:
    item = {"loc": ["query", name], "msg": msg, "type": type_, "input": value}
    if ctx:
        item["ctx"] = ctx
    return item


def query_int(params, name: str, default: int, *, ge: int, le: int | None = None, errors: list):
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(
            _error(
                name,
                "Input should be a valid integer, unable to parse string as an integer",
                "int_parsing",
                raw,
            )
        )
        return default
    if value < ge:
        errors.append(
            _error(
                name,
                f"Input should be greater than or equal to {ge}",
                "greater_than_equal",
                raw,
                ge=ge,
            )
        )
    elif le is not None and value > le:
        errors.append(
            _error(
                name, f"Input should be less than or equal to {le}", "less_than_equal", raw, le=le
            )
        )
    return value


def query_bool(params, name: str, *, errors: list) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    errors.append(
        _error(
            name, "Input should be a valid boolean, unable to interpret input", "bool_parsing", raw
        )
    )
    return None


def query_choice(params, name: str, choices: list[str], *, errors: list) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        expected = ", ".join(f"'{c}'" for c in choices[:-1]) + f" or '{choices[-1]}'"
        errors.append(_error(name, f"Input should be {expected}", "enum", raw, expected=expected))
        return None
    return raw


def query_uuid(params, name: str, *, errors: list) -> uuid.UUID | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        errors.append(_error(name, "Input should be a valid UUID", "uuid_parsing", raw))
        return None


def page_params(params, *, default_limit: int = 20, max_limit: int = 100):
    """(page, limit, errors) from ?page=&limit=; the caller raises when errors is non-empty."""
    errors: list = []
    page = query_int(params, "page", 1, ge=1, errors=errors)
    limit = query_int(params, "limit", default_limit, ge=1, le=max_limit, errors=errors)
    return page, limit, errors


def raise_if(errors: list) -> None:
    if errors:
        raise RequestValidationError(errors)
