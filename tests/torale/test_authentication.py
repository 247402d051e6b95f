import hashlib
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tasks_app.models import Task
from tests.factories import VALID_TASK, make_api_key, make_user
from torale.models import ApiKey
from torale.services import api_key_revoke

pytestmark = pytest.mark.django_db

ME = "/auth/me"
TASKS = "/api/v1/tasks"
MISSING = {"detail": "Authorization header missing"}
INVALID = {"detail": "Invalid API key"}

# Every endpoint with a method that needs authentication.
ENDPOINTS = [
    ("get", TASKS),
    ("post", TASKS),
    ("get", f"{TASKS}/{uuid.UUID(int=1)}"),
    ("put", f"{TASKS}/{uuid.UUID(int=1)}"),
    ("patch", f"{TASKS}/{uuid.UUID(int=1)}"),
    ("delete", f"{TASKS}/{uuid.UUID(int=1)}"),
    ("post", f"{TASKS}/{uuid.UUID(int=1)}/execute"),
    ("post", f"{TASKS}/preview"),
    ("post", f"{TASKS}/suggest"),
    ("get", "/auth/api-keys"),
    ("post", "/auth/api-keys"),
    ("delete", f"/auth/api-keys/{uuid.UUID(int=1)}"),
    ("get", ME),
]


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_the_authorization_header(anon_api, method, path):
    response = getattr(anon_api, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json() == MISSING
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_refuses_an_unknown_key(db, method, path):
    client = bearer("Bearer sk_" + "A" * 32)

    response = getattr(client, method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json() == INVALID
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_valid_key_authenticates_as_its_owner(api, owner):
    response = api.get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == str(owner.pk)


def test_the_scheme_is_case_insensitive(owner_key, owner):
    response = bearer(f"bearer {owner_key}").get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == str(owner.pk)


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Token {key}",
        "{key}",
        "Bearer",
        "Bearer ",
        "Bearer sk_short",
        "Bearer sk_" + "!" * 32,
        "Bearer pk_" + "A" * 32,
        "Bearer {key}x",
        "Bearer {key_without_prefix}",
    ],
)
def test_a_wrong_scheme_or_malformed_key_is_invalid(owner_key, header):
    value = header.format(key=owner_key, key_without_prefix=owner_key[3:])

    response = bearer(value).get(ME)

    assert response.status_code == 401
    assert response.json() == INVALID
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_unknown_well_formed_key_is_invalid(db):
    response = bearer("Bearer sk_" + "Z" * 32).get(TASKS)

    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_revoked_key_is_refused_on_the_next_request(api, owner, owner_key):
    assert api.get(ME).status_code == 200
    api_key_revoke(user=owner, key_id=ApiKey.objects.get(user=owner).id)

    response = api.get(ME)

    assert response.status_code == 401
    assert response.json() == INVALID


def test_a_deactivated_users_key_is_refused(api, owner):
    owner.is_active = False
    owner.save()

    response = api.get(ME)

    assert response.status_code == 401
    assert response.json() == INVALID


def test_the_key_is_stored_only_as_a_hash(owner):
    raw = make_api_key(owner, name="hash check")

    row = ApiKey.objects.get(name="hash check")
    values = [str(getattr(row, field.attname)) for field in ApiKey._meta.concrete_fields]
    assert not any(raw in value for value in values)
    assert not any(raw[3:] in value for value in values)
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(row.key_prefix) and len(row.key_prefix) < len(raw) // 2


def test_using_a_key_records_when_it_was_last_used(api, owner):
    key = ApiKey.objects.get(user=owner)
    assert key.last_used_at is None

    before = timezone.now()
    api.get(ME)

    key.refresh_from_db()
    assert key.last_used_at is not None
    assert before <= key.last_used_at <= timezone.now()


def test_last_used_at_is_not_written_on_every_request_but_moves_later(api, owner):
    key = ApiKey.objects.get(user=owner)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get(ME)
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        api.get(ME)
    key.refresh_from_db()
    assert key.last_used_at == start

    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        api.get(ME)

    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(minutes=5)


def test_the_header_decides_even_with_a_logged_in_session(owner):
    client = bearer("Bearer sk_" + "Q" * 32)
    client.force_login(owner)

    response = client.get(ME)

    assert response.status_code == 401
    assert response.json() == INVALID


# --- Session (our own pages) ------------------------------------------------------------


def test_a_logged_in_session_can_read_the_api(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json()["username"] == "owner"


def test_a_password_login_session_can_read_the_api(owner):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="owner", password="pw-for-tests-1")

    response = client.get(TASKS)

    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_a_session_post_without_a_csrf_token_is_refused(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(TASKS, VALID_TASK, format="json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert not Task.objects.exists()


def test_a_session_post_with_a_csrf_token_is_accepted(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    token = "a" * 32
    client.cookies["csrftoken"] = token

    response = client.post(TASKS, VALID_TASK, format="json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 201
    assert Task.objects.get().owner == owner


def test_a_session_delete_without_a_csrf_token_is_refused(owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    make_api_key(owner, name="page key")
    key_id = ApiKey.objects.get(name="page key").id

    response = client.delete(f"/auth/api-keys/{key_id}")

    assert response.status_code == 403
    assert ApiKey.objects.get(pk=key_id).is_active


def test_an_api_key_request_needs_no_csrf_token(owner_key):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_key}")

    response = client.post(TASKS, VALID_TASK, format="json")

    assert response.status_code == 201


def test_an_anonymous_session_gets_the_missing_header_answer(db):
    client = APIClient(enforce_csrf_checks=True)

    response = client.post(TASKS, VALID_TASK, format="json")

    assert response.status_code == 401
    assert response.json() == MISSING


def test_each_key_sees_its_own_user(api, other_api, owner, other_user):
    assert api.get(ME).json()["id"] == str(owner.pk)
    assert other_api.get(ME).json()["id"] == str(other_user.pk)


def test_a_second_key_of_the_same_user_works_too(owner):
    second = make_api_key(owner, name="second")

    assert bearer(f"Bearer {second}").get(ME).json()["id"] == str(owner.pk)


def test_a_user_made_without_a_key_cannot_use_the_api(db):
    make_user("keyless")

    assert APIClient().get(ME).status_code == 401
