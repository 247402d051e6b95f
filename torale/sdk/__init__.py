"""The Torale Python SDK. It needs only httpx: nothing here imports Django.

from torale import ToraleClient
client = ToraleClient(api_key="sk_...")
task = client.tasks.create(search_query=..., condition_description=..., schedule=...)
"""

from torale.sdk.async_client import AsyncToraleClient
from torale.sdk.client import ToraleClient

__all__ = ["AsyncToraleClient", "ToraleClient"]
