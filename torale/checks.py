"""System checks: misconfiguration stops start-up with a clear message."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=False)
def check_secret_key(app_configs, **kwargs):
    if not settings.SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is not set.",
                hint="Set SECRET_KEY in the environment or in .env (see .env.example), "
                "or set DEBUG=true for local development.",
                id="torale.E001",
            )
        ]
    return []


@register()
def check_rate_limit_store(app_configs, **kwargs):
    if not settings.REDIS_URL and not settings.DEBUG and settings.TORALE_RATE_LIMIT_ENABLED:
        return [
            Warning(
                "Rate limits are counted in process memory because REDIS_URL is not set.",
                hint="With more than one web process each one counts on its own; set REDIS_URL.",
                id="torale.W001",
            )
        ]
    return []


@register()
def check_gemini_settings(app_configs, **kwargs):
    errors = []
    base_url = settings.GEMINI_BASE_URL
    if base_url and urlsplit(base_url).scheme not in {"http", "https"}:
        errors.append(
            Error(
                f"GEMINI_BASE_URL must be an http(s) URL, got {base_url!r}.",
                id="torale.E002",
            )
        )
    if settings.GEMINI_TIMEOUT_SECONDS <= 0:
        errors.append(Error("GEMINI_TIMEOUT_SECONDS must be above 0.", id="torale.E003"))
    return errors
