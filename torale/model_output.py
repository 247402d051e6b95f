"""Reading what a language model wrote: lenient JSON, and task suggestions made valid.

Models wrap JSON in code fences, in prose or in another object, give numbers for strings and
"yes" for true. Where the meaning is clear this reads it; where it is not, it raises
MalformedOutput (a permanent ProviderFailed) with a message that quotes what came back.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from tasks_app.cron import InvalidCron, normalize_cron
from tasks_app.models import NAME_MAX_LENGTH, TEXT_MAX_LENGTH, TEXT_MIN_LENGTH, NotifyBehavior
from torale.errors import ProviderFailed

logger = logging.getLogger(__name__)

DEFAULT_SCHEDULE = "0 9 * * *"
SUGGEST_FIELDS = ("name", "search_query", "condition_description", "schedule", "notify_behavior")
# How much of the model's text goes into an error message.
MAX_QUOTED_CHARS = 300


class MalformedOutput(ProviderFailed):
    """The model answered, but not with something we can use."""


# --- lenient JSON ----------------------------------------------------------------------------
_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)\s*```", re.DOTALL)
_NOT_JSON = object()


def _loads(text: str) -> Any:
    """The JSON value in `text`: as is, inside a ``` fence, or between the outer braces."""
    attempts = [text]
    fenced = _FENCE.search(text)
    if fenced:
        attempts.append(fenced.group(1))
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        attempts.append(text[start : end + 1])
    for attempt in attempts:
        try:
            return json.loads(attempt)
        except ValueError:
            continue
    return _NOT_JSON


def _find_object(value: Any, keys: tuple[str, ...], depth: int = 0) -> dict | None:
    """The object holding our fields: `value` itself, or one it wraps ({"result": {...}},
    [{...}], or a JSON string)."""
    if depth > 3:
        return None
    if isinstance(value, dict):
        if any(key in value for key in keys):
            return value
        inner = list(value.values())
    elif isinstance(value, list):
        inner = value
    elif isinstance(value, str):
        parsed = _loads(value.strip())
        inner = [] if parsed is _NOT_JSON or isinstance(parsed, str) else [parsed]
    else:
        return None
    for item in inner:
        found = _find_object(item, keys, depth + 1)
        if found is not None:
            return found
    return None


def parse_object(text: str, *, keys: tuple[str, ...], what: str) -> dict:
    """The JSON object in `text` that holds `keys` (the first one preferred: an object with
    it wins over a wrapper that merely shares another name); raises MalformedOutput."""
    if not text:
        raise MalformedOutput(f"Gemini returned an empty {what}")
    value = _loads(text.strip())
    if value is _NOT_JSON:
        raise MalformedOutput(f"Gemini's {what} is not JSON: {quote(text)}")
    found = _find_object(value, keys[:1]) or _find_object(value, keys)
    if found is None:
        raise MalformedOutput(
            f"Gemini's {what} has none of the expected fields "
            f"({', '.join(dict.fromkeys(keys))}): {quote(text)}"
        )
    return found


_TRUE = {"true", "yes", "y", "met", "1"}
_FALSE = {"false", "no", "n", "not met", "unmet", "0"}


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().strip(".").lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return " ".join(t for t in (as_text(v) for v in value) if t)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def quote(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


# --- suggestion repair -----------------------------------------------------------------------
def clean_current_task(current_task: dict | None) -> dict:
    if not isinstance(current_task, dict):
        return {}
    return {
        k: " ".join(v.split())
        for k in SUGGEST_FIELDS
        if isinstance(v := current_task.get(k), str) and v.strip()
    }


def _fit(text: str, *, low: int, high: int) -> str | None:
    """`text` with its whitespace squeezed and cut to `high` at a word; None if too short."""
    text = " ".join(text.split())
    if len(text) > high:
        cut = text[:high]
        space = cut.rfind(" ")
        text = (cut[:space] if space > high * 0.6 else cut).rstrip(" ,;:-")
    return text if len(text) >= low else None


def _first_fit(candidates: list[str], *, low: int, high: int) -> str | None:
    for candidate in candidates:
        fitted = _fit(candidate, low=low, high=high)
        if fitted:
            return fitted
    return None


def _padded(text: str) -> str:
    text = " ".join(text.split())[:TEXT_MAX_LENGTH]
    while len(text) < TEXT_MIN_LENGTH:
        text = f"{text} latest news".strip()
    return text


def _valid_cron(value: str) -> str | None:
    try:
        return normalize_cron(value)
    except InvalidCron:
        return None


def repair_suggestion(data: dict, *, prompt: str, current: dict) -> dict:
    """The model's fields, each made valid: trimmed, or taken from the current task (what the
    prompt did not change), the prompt, or a default."""
    given = {field: as_text(data.get(field)) for field in SUGGEST_FIELDS}
    text = {"low": TEXT_MIN_LENGTH, "high": TEXT_MAX_LENGTH}
    search_query = _first_fit(
        [given["search_query"], current.get("search_query", ""), prompt], **text
    ) or _padded(max(given["search_query"], prompt, key=len))
    condition = _first_fit(
        [
            given["condition_description"],
            current.get("condition_description", ""),
            prompt,
            f"New information is found about: {search_query}",
        ],
        **text,
    )
    name = _first_fit(
        [given["name"], current.get("name", ""), search_query], low=1, high=NAME_MAX_LENGTH
    )
    schedule = (
        _valid_cron(given["schedule"])
        or _valid_cron(current.get("schedule", ""))
        or DEFAULT_SCHEDULE
    )
    behavior = next(
        (
            b
            for b in (given["notify_behavior"].lower(), current.get("notify_behavior", ""))
            if b in NotifyBehavior.values
        ),
        NotifyBehavior.ONCE.value,
    )
    suggestion = {
        "name": name,
        "search_query": search_query,
        "condition_description": condition,
        "schedule": schedule,
        "notify_behavior": behavior,
    }
    repaired = sorted(f for f in SUGGEST_FIELDS if suggestion[f] != given[f])
    if repaired:
        logger.info("gemini suggestion repaired: fields=%s", ",".join(repaired))
    return suggestion
