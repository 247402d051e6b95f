import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from torale.models import ApiKey, User

pytestmark = pytest.mark.django_db


def run(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("createapikey", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def test_it_creates_the_user_and_prints_a_working_key_last():
    out, _ = run("carol", name="ci")

    key = last_line(out)
    carol = User.objects.get(username="carol")
    assert ApiKey.objects.get(user=carol).name == "ci"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/auth/me")
    assert response.status_code == 200
    assert response.json()["username"] == "carol"
    assert response.json()["id"] == str(carol.pk)


def test_the_new_user_has_no_usable_password():
    run("carol")

    assert not User.objects.get(username="carol").has_usable_password()


def test_for_an_existing_user_it_adds_a_key_and_keeps_the_others(owner, owner_key):
    out, _ = run("owner", name="second")

    assert User.objects.filter(username="owner").count() == 1
    assert sorted(ApiKey.objects.filter(user=owner).values_list("name", flat=True)) == [
        "second",
        "tests",
    ]
    new_key = last_line(out)
    assert new_key != owner_key
    for key in (new_key, owner_key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        assert client.get("/auth/me").json()["id"] == str(owner.pk)


def test_the_key_name_defaults_to_cli():
    run("dave")

    assert ApiKey.objects.get(user__username="dave").name == "cli"


def test_the_email_option_sets_a_new_users_email():
    run("erin", email="erin@example.com")

    assert User.objects.get(username="erin").email == "erin@example.com"


def test_the_key_is_never_stored_in_clear():
    out, _ = run("carol", name="ci")

    key = last_line(out)
    row = ApiKey.objects.get(user__username="carol")
    assert key not in str([getattr(row, f.attname) for f in ApiKey._meta.concrete_fields])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([""], "USERNAME '': This field cannot be blank."),
        (["has space"], "USERNAME 'has space': Enter a valid username."),
        (["x" * 151], "Ensure this value has at most 150 characters"),
        (["alice", "--name", ""], "--name '': This field cannot be blank."),
        (["alice", "--email", "not-an-address"], "--email 'not-an-address' is not an email"),
    ],
)
def test_it_refuses_input_that_sign_up_would_refuse_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)

    assert not User.objects.exists()
    assert not ApiKey.objects.exists()
