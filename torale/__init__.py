"""Torale: watches the web for you.

This package is both the Django project and the home of the Python SDK, so importing it
must stay light: nothing here touches Django settings or starts anything. The SDK's clients
are loaded on first use (`from torale import ToraleClient` imports only httpx), so that
Django's own imports of `torale.*` never pay for them either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["AsyncToraleClient", "ToraleClient", "__version__"]

if TYPE_CHECKING:
    from torale.sdk import AsyncToraleClient, ToraleClient

_SDK_NAMES = frozenset({"AsyncToraleClient", "ToraleClient"})


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        from torale import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'torale' has no attribute {name!r}")
