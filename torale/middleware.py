"""Middleware of the server-rendered pages."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.utils import timezone

from tasks_app.cron import is_valid_timezone


class UserTimezoneMiddleware:
    """Pages show times in the signed-in user's time zone preference (UTC otherwise); the
    database and the API stay in UTC."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = getattr(user, "timezone", None) if user and user.is_authenticated else None
        if zone and is_valid_timezone(zone):
            timezone.activate(ZoneInfo(zone))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
