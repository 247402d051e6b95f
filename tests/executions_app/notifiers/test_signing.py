"""Our Standard Webhooks signatures, checked by the reference library from PyPI."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from executions_app.notifiers import signing

BODY = b'{"id":"d1","type":"task.condition_met","data":{"answer":"caf\\u00e9"}}'


def test_a_generated_secret_is_whsec_and_32_random_bytes():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.generate_secret() != secret


def test_the_standard_webhooks_library_accepts_our_signature():
    secret = signing.generate_secret()
    headers = signing.signed_headers(secret, msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", body=BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "id": "d1",
        "type": "task.condition_met",
        "data": {"answer": "café"},
    }
    assert headers["webhook-signature"].startswith("v1,")


def test_our_signature_matches_the_library_byte_for_byte():
    secret = signing.generate_secret()
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    ours = signing.signature(secret, msg_id="abc", timestamp=int(at.timestamp()), body=BODY)
    assert ours == Webhook(secret).sign("abc", at, BODY.decode())


def test_the_library_rejects_a_wrong_secret_or_a_changed_body():
    secret = signing.generate_secret()
    headers = signing.signed_headers(secret, msg_id="abc", body=BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.generate_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace(b"d1", b"d2"), headers)


def test_the_timestamp_is_the_time_of_the_attempt():
    secret = signing.generate_secret()
    old = datetime.now(UTC) - timedelta(minutes=10)
    headers = signing.signed_headers(secret, msg_id="abc", body=BODY, at=old)
    assert headers["webhook-timestamp"] == str(int(old.timestamp()))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_while_rotating_every_secret_signs_and_either_verifies():
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = signing.signed_headers([old, new], msg_id="abc", body=BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(BODY, headers)
    Webhook(new).verify(BODY, headers)


@pytest.mark.parametrize("bad", ["abc", "whsec_", "whsec_not base64!"])
def test_a_malformed_secret_is_refused(bad):
    with pytest.raises(ValueError):
        signing.secret_key(bad)
