"""How a ToraleClient is configured: the environment, its defaults, closing, its repr."""

from __future__ import annotations

import httpx
import pytest

from tests.support.receivers import HttpReceiver, Reply
from torale import ToraleClient
from torale.sdk.transport import DEFAULT_BASE_URL


def test_it_reads_the_key_and_url_from_the_environment(monkeypatch, server_url, owner_key, task):
    monkeypatch.setenv("TORALE_API_URL", server_url + "/")
    monkeypatch.setenv("TORALE_API_KEY", owner_key)

    with ToraleClient() as client:
        names = [t.name for t in client.tasks.list()]

    assert client.base_url == server_url
    assert names == [task.name]


def test_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("TORALE_API_URL", "http://env.example")
    monkeypatch.setenv("TORALE_API_KEY", "sk_from_env")

    client = ToraleClient(api_key="sk_given", base_url="http://given.example")
    client.close()

    assert client.base_url == "http://given.example"
    assert client.settings.api_key == "sk_given"


def test_without_configuration_it_talks_to_a_local_server():
    client = ToraleClient()
    client.close()

    assert client.base_url == DEFAULT_BASE_URL == "http://127.0.0.1:8000"
    assert client.settings.api_key is None


def test_the_context_manager_closes_the_http_session():
    with ToraleClient(api_key="sk_test") as client:
        assert not client._transport._http.is_closed

    assert client._transport._http.is_closed


def test_the_key_never_shows_in_its_repr():
    client = ToraleClient(api_key="sk_secret_never_shown")
    client.close()

    assert "sk_secret" not in repr(client)
    assert "sk_secret" not in repr(client.settings)


def test_it_sends_the_key_as_a_bearer_token():
    with ToraleClient(api_key="sk_test") as client:
        headers = client._transport._http.headers

    assert headers["authorization"] == "Bearer sk_test"
    assert headers["user-agent"].startswith("torale-python/")


def test_a_key_read_from_a_file_loses_its_newline(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("sk_test_from_a_file\n")
    listing = b'{"tasks": [], "total": 0, "page": 1, "limit": 20}'

    with (
        HttpReceiver(default=Reply(200, listing, {"Content-Type": "application/json"})) as server,
        ToraleClient(api_key=key_file.read_text(), base_url=server.url("")) as client,
    ):
        client.tasks.list()

    assert client.settings.api_key == "sk_test_from_a_file"
    assert [r.headers["Authorization"] for r in server.requests] == ["Bearer sk_test_from_a_file"]


@pytest.mark.parametrize(
    "key", ["sk_secret part", "sk_secret\npart", "sk_secret\x07", "sk_secr\u00e9t"]
)
def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(key, monkeypatch):
    with pytest.raises(ValueError, match="api_key contains whitespace") as caught:
        ToraleClient(api_key=key)
    monkeypatch.setenv("TORALE_API_KEY", key)
    with pytest.raises(ValueError) as from_environment:
        ToraleClient()

    for error in (caught.value, from_environment.value):
        assert "secret" not in str(error) and "secret" not in repr(error)


def test_a_blank_key_is_no_key(monkeypatch):
    monkeypatch.setenv("TORALE_API_KEY", " \n")

    with ToraleClient() as client:
        headers = client._transport._http.headers

    assert client.settings.api_key is None
    assert "authorization" not in headers


@pytest.mark.parametrize("suffix", ["/api/v1", "/api/v1/", "/"])
def test_a_base_url_ending_in_the_api_prefix_still_reaches_the_api(
    suffix, server_url, owner_key, task
):
    with ToraleClient(api_key=owner_key, base_url=server_url + suffix) as client:
        names = [t.name for t in client.tasks.list()]

    assert client.base_url == server_url
    assert names == [task.name]


def test_a_base_url_keeps_a_path_prefix_of_its_own():
    with ToraleClient(base_url="https://example.com/torale/api/v1/") as client:
        assert client.base_url == "https://example.com/torale"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/?x=1",
        "http://127.0.0.1:8000/#top",
        "http://127.0.0.1:8000?",
        "ftp://127.0.0.1",
        "127.0.0.1:8000",
        "http://",
    ],
)
def test_a_base_url_that_is_not_a_servers_root_is_refused(url):
    with pytest.raises(ValueError, match="base_url"):
        ToraleClient(base_url=url)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"timeout": "5"}, TypeError),
        ({"timeout": None}, TypeError),
        ({"timeout": True}, TypeError),
        ({"timeout": 0}, ValueError),
        ({"timeout": -1}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"max_retries": 1.5}, TypeError),
        ({"max_retries": -1}, ValueError),
        ({"max_retry_wait": "10"}, TypeError),
        ({"backoff": -0.5}, ValueError),
        ({"base_url": 8000}, TypeError),
        ({"api_key": b"sk_bytes"}, TypeError),
    ],
    ids=lambda v: repr(v),
)
def test_it_refuses_options_that_cannot_work(options, error):
    with pytest.raises(error):
        ToraleClient(**options)


def test_it_takes_a_number_or_an_httpx_timeout():
    with ToraleClient(timeout=5) as by_number, ToraleClient(timeout=httpx.Timeout(3.0)) as exact:
        assert by_number.settings.deadline == 5.0
        assert exact._transport._http.timeout == httpx.Timeout(3.0)
        assert exact.settings.deadline == 3.0
