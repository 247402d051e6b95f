"""`Authorization: Bearer sk_...` for API clients; the Django session for our own pages."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck

from torale.services import api_key_authenticate

MISSING_HEADER = "Authorization header missing"
INVALID_KEY = "Invalid API key"


class ApiKeyOrSessionAuthentication(BaseAuthentication):
    """An Authorization header always decides; without one, a logged-in session (with CSRF)
    is accepted, so that the server-rendered pages can call the same API."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return self._session(request)
        scheme, _, credentials = header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() != "bearer" or not credentials:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        key = api_key_authenticate(credentials)
        if key is None:
            raise exceptions.AuthenticationFailed(INVALID_KEY)
        return key.user, key

    def authenticate_header(self, request) -> str:
        return "Bearer"

    def _session(self, request):
        user = getattr(request._request, "user", None)
        if user is None or not user.is_active or not user.is_authenticated:
            raise exceptions.NotAuthenticated(MISSING_HEADER)
        check = CSRFCheck(lambda req: None)
        check.process_request(request._request)
        reason = check.process_view(request._request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")
        return user, None
