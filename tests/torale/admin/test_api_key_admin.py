"""The API key admin: keys listed by their prefix, never their hash; revoked through
api_key_revoke; created through api_key_create and shown once."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from torale.models import ApiKey, hash_api_key
from torale.services import api_key_authenticate, api_key_create

pytestmark = pytest.mark.django_db

KEYS = "/admin/torale/apikey/"


@pytest.fixture
def key(owner) -> ApiKey:
    row, _ = api_key_create(user=owner, name="laptop")
    return row


def test_a_non_staff_user_is_sent_to_the_admin_login(owner_client):
    response = owner_client.get(KEYS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_list_and_the_key_page_show_the_prefix_and_never_the_hash(admin_client, key):
    for url in (KEYS, f"{KEYS}{key.pk}/change/", f"{KEYS}?q={key.key_prefix}"):
        response = admin_client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert key.key_prefix in html, url
        assert key.key_hash not in html, url
        assert "key_hash" not in html, url


def test_a_posted_hash_is_ignored(admin_client, key):
    admin_client.post(
        f"{KEYS}{key.pk}/change/", {"name": "renamed", "key_hash": "0" * 64, "user": ""}
    )

    again = ApiKey.objects.get(pk=key.pk)
    assert again.name == "renamed"
    assert (again.key_hash, again.user_id) == (key.key_hash, key.user_id)


def test_revoke_goes_through_the_service(admin_client, owner):
    row, raw = api_key_create(user=owner, name="ci")

    response = admin_client.post(
        KEYS, {"action": "revoke", "_selected_action": [str(row.pk)]}, follow=True
    )

    row.refresh_from_db()
    assert row.revoked_at is not None
    assert api_key_authenticate(raw) is None
    assert "Revoked 1 API keys." in [str(m) for m in get_messages(response.wsgi_request)]


def test_revoking_a_revoked_key_leaves_it_alone(admin_client, key):
    admin_client.post(KEYS, {"action": "revoke", "_selected_action": [str(key.pk)]})
    key.refresh_from_db()
    first = key.revoked_at

    response = admin_client.post(
        KEYS, {"action": "revoke", "_selected_action": [str(key.pk)]}, follow=True
    )

    key.refresh_from_db()
    assert key.revoked_at == first
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "1 were revoked already and were left alone." in texts


def test_the_active_filter(admin_client, owner, key):
    revoked, _ = api_key_create(user=owner, name="old")
    admin_client.post(KEYS, {"action": "revoke", "_selected_action": [str(revoked.pk)]})

    response = admin_client.get(KEYS, {"active": "no"})

    assert [k.pk for k in response.context["cl"].result_list] == [revoked.pk]


def test_a_key_made_here_is_made_by_the_service_and_shown_once(admin_client, owner):
    response = admin_client.post(
        f"{KEYS}add/", {"user": str(owner.pk), "name": "made by an operator"}
    )

    key = ApiKey.objects.get(name="made by an operator")
    assert response.status_code == 200  # the key is in this answer, not behind a redirect
    assert "no-store" in response["Cache-Control"]
    raw = response.context["raw_key"]
    assert raw.startswith(key.key_prefix)
    assert hash_api_key(raw) == key.key_hash
    assert api_key_authenticate(raw).user_id == owner.pk
    assert f'value="{raw}"' in response.content.decode()
    # Not kept anywhere to show later: no message (cookie or session), no other page.
    assert not [m for m in get_messages(response.wsgi_request) if raw in str(m)]
    assert raw not in response.cookies.output()
    assert raw not in admin_client.get(f"{KEYS}{key.pk}/change/").content.decode()
    assert raw not in admin_client.get(KEYS).content.decode()


def test_the_add_form_has_no_hash_or_prefix_field(admin_client):
    form = admin_client.get(f"{KEYS}add/").context["adminform"].form

    assert set(form.fields) == {"user", "name"}


def test_keys_cannot_be_deleted_only_revoked(admin_client, key):
    response = admin_client.post(f"{KEYS}{key.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert ApiKey.objects.filter(pk=key.pk).exists()
