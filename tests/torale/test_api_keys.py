import re
import uuid

import pytest
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from tests.factories import make_api_key
from torale.models import ApiKey

pytestmark = pytest.mark.django_db

KEYS = "/auth/api-keys"
ME = "/auth/me"
KEY_INFO_FIELDS = {"id", "name", "key_prefix", "created_at", "last_used_at", "is_active"}


def client_for(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


# --- Create ---------------------------------------------------------------------------------


def test_it_creates_a_key_and_shows_it_once(api, owner):
    response = api.post(KEYS, {"name": "laptop"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"key", "key_info"}
    assert re.fullmatch(r"sk_[A-Za-z0-9]{32}", body["key"])
    info = body["key_info"]
    assert set(info) == KEY_INFO_FIELDS
    assert info["name"] == "laptop"
    assert info["is_active"] is True
    assert info["last_used_at"] is None
    assert body["key"].startswith(info["key_prefix"])
    assert info["created_at"].endswith("Z") and parse_datetime(info["created_at"])
    row = ApiKey.objects.get(pk=info["id"])
    assert row.user == owner and row.name == "laptop"


def test_the_new_key_authenticates_as_its_creator(api, owner):
    raw = api.post(KEYS, {"name": "ci"}, format="json").json()["key"]

    response = client_for(raw).get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == str(owner.pk)


def test_every_key_is_different(api):
    keys = {api.post(KEYS, {"name": f"k{i}"}, format="json").json()["key"] for i in range(5)}

    assert len(keys) == 5


@pytest.mark.parametrize(
    ("body", "type_"),
    [
        ({}, "missing"),
        ({"name": ""}, "string_too_short"),
        ({"name": 5}, "string_type"),
        ({"name": None}, "string_type"),
        ({"name": "n" * 101}, "string_too_long"),
    ],
)
def test_it_rejects_a_missing_or_bad_name(api, owner, body, type_):
    response = api.post(KEYS, body, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "name"]
    assert item["type"] == type_
    assert ApiKey.objects.filter(user=owner).count() == 1  # only the fixture's key


def test_it_rejects_a_body_that_is_not_an_object(api):
    response = api.post(KEYS, ["laptop"], format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_a_logged_in_session_can_create_a_key_with_a_csrf_token(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    client.cookies["csrftoken"] = "b" * 32

    response = client.post(
        KEYS, {"name": "from the page"}, format="json", HTTP_X_CSRFTOKEN="b" * 32
    )

    assert response.status_code == 201
    assert client_for(response.json()["key"]).get(ME).status_code == 200


# --- List -----------------------------------------------------------------------------------


def test_it_lists_only_the_callers_keys_and_never_the_secret(api, owner, other_user, owner_key):
    mine = make_api_key(owner, name="second")
    theirs = make_api_key(other_user, name="not yours")

    response = api.get(KEYS)

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    assert sorted(k["name"] for k in body) == ["second", "tests"]
    assert all(set(k) == KEY_INFO_FIELDS for k in body)
    text = response.content.decode()
    for secret in (owner_key, mine, theirs):
        assert secret not in text
        assert secret[3:] not in text
    assert "not yours" not in text


@pytest.mark.parametrize("path", [KEYS, KEYS + "/"])
def test_the_list_answers_with_and_without_a_trailing_slash(api, path):
    response = api.get(path)

    assert response.status_code == 200
    assert [k["name"] for k in response.json()] == ["tests"]


@pytest.mark.parametrize("path", [KEYS, KEYS + "/"])
def test_create_answers_with_and_without_a_trailing_slash(api, path):
    response = api.post(path, {"name": "slash"}, format="json")

    assert response.status_code == 201


def test_it_lists_the_newest_key_first_with_its_state(api, owner):
    make_api_key(owner, name="newer")
    revoked_id = api.post(KEYS, {"name": "revoked"}, format="json").json()["key_info"]["id"]
    api.delete(f"{KEYS}/{revoked_id}")

    body = api.get(KEYS).json()

    assert [k["name"] for k in body] == ["revoked", "newer", "tests"]
    assert [k["is_active"] for k in body] == [False, True, True]


def test_the_list_shows_when_a_key_was_last_used(api):
    [info] = api.get(KEYS).json()

    assert info["last_used_at"] is not None
    assert info["last_used_at"].endswith("Z")


# --- Revoke ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/"])
def test_revoking_a_key_makes_it_fail_on_the_next_request(api, owner, suffix):
    spare = make_api_key(owner, name="spare")
    spare_id = ApiKey.objects.get(name="spare").id
    assert client_for(spare).get(ME).status_code == 200

    response = api.delete(f"{KEYS}/{spare_id}{suffix}")

    assert response.status_code == 204
    assert response.content == b""
    refused = client_for(spare).get(ME)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid API key"}
    assert ApiKey.objects.get(pk=spare_id).is_active is False


def test_a_key_can_revoke_itself(api, owner):
    own_id = ApiKey.objects.get(user=owner).id

    assert api.delete(f"{KEYS}/{own_id}").status_code == 204

    assert api.get(ME).status_code == 401


def test_revoking_another_users_key_is_not_found_and_the_key_keeps_working(
    api, other_user, other_key
):
    their_id = ApiKey.objects.get(user=other_user).id

    response = api.delete(f"{KEYS}/{their_id}")

    assert response.status_code == 404
    assert ApiKey.objects.get(pk=their_id).is_active
    assert client_for(other_key).get(ME).status_code == 200


def test_revoking_twice_is_not_found(api, owner):
    make_api_key(owner, name="spare")
    spare_id = ApiKey.objects.get(name="spare").id
    api.delete(f"{KEYS}/{spare_id}")

    response = api.delete(f"{KEYS}/{spare_id}")

    assert response.status_code == 404


@pytest.mark.parametrize("key_id", [str(uuid.UUID(int=7)), "not-a-uuid"])
def test_revoking_an_unknown_or_malformed_id_is_not_found(api, key_id):
    response = api.delete(f"{KEYS}/{key_id}")

    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


# --- Me -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ME, ME + "/"])
def test_me_describes_the_authenticated_user(api, owner, path):
    response = api.get(path)

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(owner.pk),
        "username": "owner",
        "email": "owner@example.com",
        "created_at": body["created_at"],
    }
    assert body["created_at"].endswith("Z")
    assert parse_datetime(body["created_at"]) == owner.date_joined


def test_me_of_the_other_user_is_the_other_user(other_api, other_user):
    assert other_api.get(ME).json()["username"] == "intruder"
