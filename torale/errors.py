"""Domain errors raised by services. The API's exception handler maps them to HTTP answers;
services never build responses themselves."""


class DomainError(Exception):
    """Base class; `detail` is the sentence shown to the API user."""

    status_code = 400

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class InvalidStateTransition(DomainError):
    status_code = 400

    def __init__(self, current: str, requested: str):
        super().__init__(f"Invalid state transition: {current} -> {requested}")
        self.current, self.requested = current, requested


class InvalidTimezone(DomainError):
    """A time zone name that is not an IANA zone."""

    status_code = 422


class ProviderError(DomainError):
    """The search provider could not answer. `transient` errors (rate limits, overload,
    timeouts, network) are worth retrying; the others need someone to fix something."""

    status_code = 502
    default_transient = False

    def __init__(self, detail: str, *, transient: bool | None = None):
        super().__init__(detail)
        self.transient = self.default_transient if transient is None else transient


class ProviderUnavailable(ProviderError):
    """No search provider is configured, or it is overloaded right now."""

    status_code = 503


class ProviderFailed(ProviderError):
    """The provider answered with an error or with something we cannot use."""

    status_code = 502


class ProviderTimeout(ProviderError):
    status_code = 504
    default_transient = True


NO_PROVIDER_MESSAGE = "No search provider configured: set GEMINI_API_KEY"
