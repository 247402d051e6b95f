"""What every server-rendered page view shares: domain errors turned into answers, and the
rate limit of actions that reach outside (test notifications)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from torale.api.ratelimit import check_rate_limit
from torale.errors import Forbidden, NotFound


def owned_page(view: Callable) -> Callable:
    """A login-required page about one of the user's objects: an unknown id and someone
    else's id both answer 404 (the page does not tell them apart), and nothing changes."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (NotFound, Forbidden) as exc:
            raise Http404(exc.detail) from None

    return wrapper


def wants_json(request) -> bool:
    """The page's own JavaScript asks for JSON (fetch with Accept: application/json)."""
    return "application/json" in request.headers.get("Accept", "")


def retry_after_if_limited(request) -> int | None:
    """Count the request against the user's limits, the ones the API applies to the same
    session (torale.api.views.rate_limit_identity): seconds to wait when over, else None."""
    decision = check_rate_limit(f"user:{request.user.pk}")
    if decision is not None and not decision.allowed:
        return decision.retry_after
    return None
