"""The settings page's Account section: the account's address (where the account email
channel and password resets go), changed with the current password; and the password."""

from __future__ import annotations

import pytest
from django.db import IntegrityError

from executions_app.channels import channel_account_email, channel_target
from tests.factories import make_user
from torale.models import User

pytestmark = pytest.mark.django_db

EMAIL = "/settings/email"
PASSWORD = "pw-for-tests-1"  # the factories' password


def test_the_settings_page_has_the_account_form_with_the_address(owner_client):
    text = owner_client.get("/settings").text

    assert 'id="account"' in text
    assert 'value="owner@example.com"' in text
    assert 'href="/accounts/password"' in text


def test_the_address_changes_with_the_current_password(owner_client, owner):
    response = owner_client.post(
        EMAIL, {"email": "Owner.New@Example.COM", "current_password": PASSWORD}, follow=True
    )

    owner.refresh_from_db()
    assert owner.email == "Owner.New@example.com"  # the domain part is case-insensitive
    assert "Your email is now Owner.New@example.com." in response.text
    # The account email channel follows the account's address.
    assert channel_target(channel_account_email(user=owner)).address == "Owner.New@example.com"


def test_a_wrong_password_changes_nothing(owner_client, owner):
    response = owner_client.post(EMAIL, {"email": "new@example.com", "current_password": "nope"})

    assert response.status_code == 422
    assert "That is not your current password." in response.text
    assert User.objects.get(pk=owner.pk).email == "owner@example.com"


@pytest.mark.parametrize("address", ["INTRUDER@example.com", "intruder@EXAMPLE.com"])
def test_another_accounts_address_is_refused_in_any_case(owner_client, owner, other_user, address):
    response = owner_client.post(EMAIL, {"email": address, "current_password": PASSWORD})

    assert response.status_code == 422
    assert "An account with this email exists already." in response.text
    assert User.objects.get(pk=owner.pk).email == "owner@example.com"


@pytest.mark.parametrize("address", ["", "not-an-address", "a@b@example.com", "x" * 250 + "@e.com"])
def test_a_malformed_address_is_refused(owner_client, owner, address):
    response = owner_client.post(EMAIL, {"email": address, "current_password": PASSWORD})

    assert response.status_code == 422
    assert User.objects.get(pk=owner.pk).email == "owner@example.com"


def test_an_account_without_an_address_is_pointed_at_the_form(owner_client, owner):
    owner.email = ""
    owner.save(update_fields=["email"])

    text = owner_client.get("/settings").text

    assert 'No email address on your account: <a href="#account">add one above</a>' in text


def test_the_database_keeps_addresses_unique_whatever_their_case(owner):
    with pytest.raises(IntegrityError):
        make_user("twin", email="OWNER@EXAMPLE.COM")


def test_several_accounts_may_have_no_address(db):
    make_user("first", email="")
    make_user("second", email="")

    assert User.objects.filter(email="").count() == 2


def test_the_password_changes_from_the_settings_page(owner_client, owner, client):
    response = owner_client.post(
        "/accounts/password",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
        follow=True,
    )

    assert "Password changed" in response.text
    assert owner_client.get("/settings").status_code == 200  # still logged in here
    assert client.login(username="owner", password="a-much-longer-passphrase-42")


def test_the_password_page_needs_a_login(client):
    assert client.get("/accounts/password")["Location"].startswith("/accounts/login")
