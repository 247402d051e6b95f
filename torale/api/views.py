"""Base class of every API view: rate limits and their headers."""

from __future__ import annotations

from rest_framework import viewsets

from torale.api.errors import RateLimited
from torale.api.ratelimit import check_rate_limit


def rate_limit_identity(request) -> str:
    """Limits are per API key; session users (our own pages) are limited per user."""
    key = request.auth
    if key is not None and hasattr(key, "pk"):
        return f"key:{key.pk}"
    return f"user:{request.user.pk}"


class ToraleViewSet(viewsets.ViewSet):
    """Counts every authenticated request against its key's limits and reports them in the
    X-RateLimit-* headers of the answer (errors included)."""

    def check_throttles(self, request):
        decision = check_rate_limit(rate_limit_identity(request))
        request.rate_limit = decision
        if decision is not None and not decision.allowed:
            raise RateLimited(decision)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        decision = getattr(request, "rate_limit", None)
        if decision is not None:
            response["X-RateLimit-Limit"] = str(decision.limit)
            response["X-RateLimit-Remaining"] = str(decision.remaining)
            response["X-RateLimit-Reset"] = str(decision.reset)
        return response
