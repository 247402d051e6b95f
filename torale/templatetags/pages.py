"""Template helpers shared by every page: safe links from untrusted URLs, pagination links,
times stored as ISO text."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from django import template
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.timesince import timesince

register = template.Library()

LINK_SCHEMES = {"http", "https"}


@register.filter
def http_url(value) -> str:
    """The URL when it is an absolute http(s) URL, else "": only these become links.

    Model output (grounding sources) is untrusted: a `javascript:` or `data:` URI must never
    reach an href. The URL is returned as urlsplit reads it (control characters and
    surrounding spaces gone), so the browser cannot read a different scheme out of it.
    """
    if not isinstance(value, str):
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.hostname:
        return ""
    return urlunsplit(parts)


@register.filter
def url_host(value) -> str:
    """The host name of a URL (a readable stand-in for a missing link title)."""
    if not isinstance(value, str):
        return ""
    try:
        return urlsplit(value.strip()).hostname or ""
    except ValueError:
        return ""


@register.filter
def iso_datetime(value) -> datetime | None:
    """A datetime from ISO 8601 text (as stored in JSON columns), else None."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


@register.simple_tag(takes_context=True)
def page_url(context, number, name="page") -> str:
    """The current URL with query parameter `name` set to `number`, other parameters kept
    (a state filter survives paging)."""
    params = context["request"].GET.copy()
    params[name] = number
    return "?" + params.urlencode()


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now" under a minute (where timesince would say "0 minutes"), else "3 hours ago"."""
    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"
