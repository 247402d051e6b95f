"""How a ToraleClient is configured: the environment, its defaults, closing, its repr."""

from __future__ import annotations

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
