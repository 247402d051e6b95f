"""Standard Webhooks signatures (https://www.standardwebhooks.com/), so that receivers can
verify our events with any Standard Webhooks library.

The signed content is "{webhook-id}.{webhook-timestamp}.{body}", HMAC-SHA256 with the raw
secret bytes, sent base64-encoded as `webhook-signature: v1,<signature>`. Several signatures may
be sent at once, space-separated, which is how a secret is rotated without a gap.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

SECRET_PREFIX = "whsec_"
# The spec asks for 24 to 64 random bytes; 32 matches the HMAC-SHA256 block strength.
SECRET_BYTES = 32


def generate_secret() -> str:
    """A new signing secret, `whsec_` + base64 of 32 random bytes. Show it to its owner once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_...` secret; ValueError if it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("A webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise ValueError("A webhook secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("A webhook secret may not be empty")
    return key


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256>` of one message under one secret."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str | Sequence[str],
    *,
    msg_id: str,
    body: bytes,
    at: datetime | None = None,
) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`.

    `msg_id` stays the same on every retry of one event (receivers deduplicate on it); the
    timestamp is the time of this attempt (receivers reject old ones, typically after 5 min).
    Pass a list of secrets while rotating: the receiver accepts any matching signature.
    """
    timestamp = int((at or datetime.now(UTC)).timestamp())
    keys = [secret] if isinstance(secret, str) else list(secret)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in keys
        ),
    }
