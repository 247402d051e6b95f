"""safe_http against real local receivers: address policy after DNS, redirects, status
classification, timeouts, size cap and TLS on the hostname."""

from __future__ import annotations

import time

import pytest

from executions_app.notifiers import safe_http
from executions_app.notifiers.base import DeliveryError, TargetRefused
from tests.executions_app.notifiers.conftest import server_tls
from tests.support.receivers import HttpReceiver, Reply, free_port


def post(url: str, **kwargs) -> safe_http.HttpResponse:
    return safe_http.post(url, content=b'{"hello":"world"}', **kwargs)


# --- The address policy ----------------------------------------------------------------------


def test_it_refuses_a_loopback_target_by_default(receiver):
    with pytest.raises(TargetRefused) as caught:
        post(receiver.url())
    assert caught.value.permanent
    assert "127.0.0.1 is a loopback address" in str(caught.value)
    assert receiver.requests == []


def test_it_accepts_a_loopback_target_when_the_operator_allows_private_targets(
    receiver, allow_private
):
    response = post(receiver.url("/hook?x=1"))
    assert response.status_code == 200
    assert response.body == b"ok"
    [received] = receiver.requests
    assert (received.method, received.path) == ("POST", "/hook?x=1")
    assert received.body == b'{"hello":"world"}'


@pytest.mark.parametrize("host", ["localhost", "127.1", "2130706433", "0x7f000001"])
def test_it_refuses_hostnames_and_spellings_that_resolve_to_loopback(receiver, host):
    with pytest.raises(TargetRefused) as caught:
        post(receiver.url(host=host))
    assert "loopback" in str(caught.value)
    assert receiver.requests == []


def test_it_accepts_localhost_when_private_targets_are_allowed(receiver, allow_private):
    # "localhost" may resolve to ::1 first, where nothing listens: the next vetted address is tried.
    assert post(receiver.url(host="localhost")).status_code == 200


def test_an_allowed_network_opens_only_that_network(receiver, other_receiver, settings):
    settings.TORALE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert post(receiver.url()).status_code == 200
    with pytest.raises(TargetRefused):
        post(other_receiver.url())


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://100.100.100.200/latest/meta-data/",
    ],
)
def test_it_refuses_cloud_metadata_even_when_private_targets_are_allowed(url, allow_private):
    with pytest.raises(TargetRefused) as caught:
        post(url)
    assert "cloud metadata" in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://0.0.0.0:9/", "http://[::]:9/", "http://224.0.0.1/", "http://240.0.0.1/"]
)
def test_it_refuses_unspecified_multicast_and_reserved_addresses_always(url, allow_private):
    with pytest.raises(TargetRefused):
        post(url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/"])
def test_it_refuses_schemes_other_than_http_and_https(url, allow_private):
    with pytest.raises(TargetRefused) as caught:
        post(url)
    assert "scheme" in str(caught.value)


def test_check_url_validates_a_url_before_it_is_saved(receiver, settings):
    with pytest.raises(TargetRefused):
        safe_http.check_url(receiver.url())
    settings.TORALE_ALLOW_PRIVATE_WEBHOOKS = True
    safe_http.check_url(receiver.url())
    assert receiver.requests == []  # a check sends nothing


# --- Redirects --------------------------------------------------------------------------------


def test_it_refuses_a_redirect_to_a_private_address(receiver, other_receiver, settings):
    settings.TORALE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver.script(Reply(307, headers={"Location": other_receiver.url("/inside")}))
    with pytest.raises(TargetRefused) as caught:
        post(receiver.url())
    assert "127.0.0.2 is a loopback address" in str(caught.value)
    assert len(receiver.requests) == 1
    assert other_receiver.requests == []


def test_it_refuses_a_redirect_to_the_metadata_service(receiver, allow_private):
    receiver.script(Reply(307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    with pytest.raises(TargetRefused) as caught:
        post(receiver.url())
    assert "cloud metadata" in str(caught.value)


def test_it_follows_a_permanent_redirect_keeping_method_and_body(receiver, allow_private):
    receiver.script(Reply(308, headers={"Location": "/moved"}))
    response = post(receiver.url("/old"))
    assert response.status_code == 200
    assert response.url == receiver.url("/moved")
    assert [(r.method, r.path, r.body) for r in receiver.requests] == [
        ("POST", "/old", b'{"hello":"world"}'),
        ("POST", "/moved", b'{"hello":"world"}'),
    ]


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_redirect_that_would_turn_the_post_into_a_get_fails_for_good(
    receiver, allow_private, status
):
    # Followed, the event would never arrive, yet the GET's 200 would read as delivered.
    receiver.script(Reply(status, headers={"Location": "/result"}))
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert caught.value.permanent
    assert str(caught.value) == (
        f"Receiver answered {status} redirecting to /result: only 307 and 308 redirects keep "
        "the request; use the final URL"
    )
    assert [r.method for r in receiver.requests] == ["POST"]


def test_it_stops_after_the_configured_number_of_redirects(receiver, allow_private):
    allow_private.TORALE_WEBHOOK_MAX_REDIRECTS = 2
    receiver.default = Reply(307, headers={"Location": "/again"})
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert caught.value.permanent
    assert "Too many redirects" in str(caught.value)
    assert len(receiver.requests) == 3  # the request and two redirects


def test_it_refuses_a_redirect_from_https_down_to_http(ca, client_tls, receiver, allow_private):
    with HttpReceiver(tls=server_tls(ca, "localhost")) as secure:
        secure.script(Reply(307, headers={"Location": receiver.url()}))
        with pytest.raises(TargetRefused) as caught:
            post(secure.url(host="localhost"), verify=client_tls)
    assert "https to http" in str(caught.value)
    assert receiver.requests == []


# --- Receiver answers -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(receiver, allow_private, status):
    receiver.script(Reply(status, body=b"database is down"))
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert not caught.value.permanent
    assert caught.value.status_code == status
    assert "database is down" in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_a_client_error_is_permanent(receiver, allow_private, status):
    receiver.script(Reply(status, body=b"gone"))
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert caught.value.permanent
    assert caught.value.status_code == status


def test_too_many_requests_is_transient_and_carries_retry_after(receiver, allow_private):
    receiver.script(Reply(429, headers={"Retry-After": "30"}))
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert not caught.value.permanent
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 30.0


def test_retry_after_may_be_an_http_date(receiver, allow_private):
    receiver.script(Reply(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert caught.value.retry_after == 0.0  # a date in the past: retry now


def test_a_refused_connection_is_transient(allow_private):
    with pytest.raises(DeliveryError) as caught:
        post(f"http://127.0.0.1:{free_port()}/hook")
    assert not caught.value.permanent
    assert caught.value.status_code is None


def test_a_receiver_slower_than_the_read_timeout_is_a_transient_timeout(receiver, allow_private):
    allow_private.TORALE_WEBHOOK_READ_TIMEOUT_SECONDS = 0.5
    receiver.script(Reply(delay=3))
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert time.monotonic() - started < 2
    assert not caught.value.permanent
    assert "timed out" in str(caught.value)


def test_the_total_timeout_bounds_a_receiver_that_trickles_its_answer(receiver, allow_private):
    # Each byte comes well within the read timeout; only the total deadline can stop this.
    allow_private.TORALE_WEBHOOK_READ_TIMEOUT_SECONDS = 2
    allow_private.TORALE_WEBHOOK_TOTAL_TIMEOUT_SECONDS = 1
    receiver.script(Reply(body=b"x" * 50, trickle=0.1))
    started = time.monotonic()
    with pytest.raises(DeliveryError) as caught:
        post(receiver.url())
    assert time.monotonic() - started < 2
    assert not caught.value.permanent
    assert "timed out (total)" in str(caught.value)


def test_it_reads_at_most_the_response_size_cap(receiver, allow_private):
    allow_private.TORALE_WEBHOOK_MAX_RESPONSE_BYTES = 1000
    receiver.script(Reply(body=b"y" * 1_000_000))
    response = post(receiver.url())
    assert response.status_code == 200
    assert len(response.body) == 1000
    assert response.truncated


def test_get_is_supported_for_apprise_style_targets(receiver, allow_private):
    response = safe_http.get(receiver.url("/status"))
    assert response.status_code == 200
    assert receiver.requests[0].method == "GET"


# --- TLS --------------------------------------------------------------------------------------


def test_tls_uses_the_hostname_for_sni_and_certificate_while_connecting_to_the_vetted_ip(
    ca, client_tls, allow_private
):
    with HttpReceiver(tls=server_tls(ca, "localhost")) as secure:
        response = post(secure.url(host="localhost"), verify=client_tls)
    assert response.status_code == 200
    assert secure.server_names == ["localhost"]
    assert secure.requests[0].headers["Host"] == f"localhost:{secure.port}"


def test_a_certificate_for_another_name_is_refused(ca, client_tls, allow_private):
    with (
        HttpReceiver(tls=server_tls(ca, "other.example")) as secure,
        pytest.raises(DeliveryError) as caught,
    ):
        post(secure.url(host="localhost"), verify=client_tls)
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert secure.requests == []
