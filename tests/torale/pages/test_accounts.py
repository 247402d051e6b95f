import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.test import Client

from torale.api.errors import server_error
from torale.models import User

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}

PAGES = [
    "/",
    "/tasks/new",
    "/tasks/00000000-0000-0000-0000-000000000000",
    "/tasks/00000000-0000-0000-0000-000000000000/edit",
    "/tasks/00000000-0000-0000-0000-000000000000/delete",
    "/settings",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login?next={path}"


def test_sign_up_creates_the_account_and_logs_in(client):
    response = client.post("/accounts/signup", SIGN_UP, follow=True)

    user = User.objects.get(username="newcomer")
    assert user.email == "newcomer@example.com"
    assert user.check_password(SIGN_UP["password1"])
    assert response.redirect_chain[-1][0] == "/tasks/new"
    assert response.context["user"] == user
    assert "Welcome, newcomer" in response.text


def test_sign_up_pages_answer_with_a_trailing_slash_too(client):
    assert client.get("/accounts/signup/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password2": "something-else-entirely"}, "password2", "didn’t match"),
        ({"password1": "123", "password2": "123"}, "password2", "too short"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        ({"username": ""}, "username", "required"),
    ],
)
def test_sign_up_explains_what_is_wrong(client, change, field, message):
    response = client.post("/accounts/signup", {**SIGN_UP, **change})

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not User.objects.filter(username="newcomer").exists()


def test_sign_up_refuses_a_taken_username_or_email(client, owner):
    taken_name = client.post("/accounts/signup", {**SIGN_UP, "username": "OWNER"})
    taken_email = client.post("/accounts/signup", {**SIGN_UP, "email": "Owner@Example.com"})

    assert "username" in taken_name.context["form"].errors
    assert "An account with this email exists already" in taken_email.text
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "emails", [["same@example.com"] * 6, ["Su1@example.com", "su1@EXAMPLE.com"] * 3]
)
def test_simultaneous_sign_ups_make_one_account_and_explain_the_rest(emails):
    """A double-clicked Submit: the same form sent at once. One account; the others see why."""
    start = threading.Barrier(len(emails))

    def sign_up(email: str):
        browser = Client()
        start.wait()
        return browser.post("/accounts/signup", {**SIGN_UP, "email": email})

    with ThreadPoolExecutor(len(emails)) as pool:
        responses = list(pool.map(sign_up, emails))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (len(emails) - 1) + [302]
    assert User.objects.filter(username="newcomer").count() == 1
    for refused in (r for r in responses if r.status_code == 200):
        # the name, the address or both, whichever the form or the database caught
        assert re.search(r"already exists|exists already", refused.text)


def test_log_in_and_out(client, owner):
    page = client.get("/accounts/login")
    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.text

    response = client.post(
        "/accounts/login", {"username": "owner", "password": "pw-for-tests-1"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert response.context["user"] == owner

    assert client.get("/accounts/logout").status_code == 405  # a link cannot log you out
    response = client.post("/accounts/logout", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login"
    assert client.get("/").status_code == 302


def test_log_in_goes_back_to_the_page_asked_for(client, owner):
    response = client.post(
        "/accounts/login?next=/settings",
        {"username": "owner", "password": "pw-for-tests-1", "next": "/settings"},
    )

    assert response["Location"] == "/settings"


def test_a_wrong_password_is_explained(client, owner):
    response = client.post("/accounts/login", {"username": "owner", "password": "wrong"})

    assert response.status_code == 200
    assert "do not match an account" in response.text


def test_password_reset_sends_a_link_that_sets_a_new_password(client, owner):
    response = client.post("/accounts/password-reset", {"email": "owner@example.com"}, follow=True)

    assert "Check your email" in response.text
    [email] = mail.outbox
    assert email.to == ["owner@example.com"]
    assert email.subject == "Reset your Torale password"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", email.body).group(1)

    form = client.get(link, follow=True)
    assert "Choose a new password" in form.text
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
        follow=True,
    )

    assert "Your new password is set" in done.text
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-passphrase")


def test_password_reset_for_an_unknown_address_tells_nothing(client):
    response = client.post("/accounts/password-reset", {"email": "nobody@example.com"}, follow=True)

    assert "Check your email" in response.text
    assert mail.outbox == []


def test_session_and_csrf_cookies_are_secure_outside_debug(client, owner):
    response = client.post("/accounts/login", {"username": "owner", "password": "pw-for-tests-1"})

    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert response.cookies["csrftoken"]["secure"] is True


def test_pages_are_phone_ready_and_use_only_local_assets(client):
    text = client.get("/accounts/login").text

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert re.findall(r'(?:href|src)="(/static/[^"]+)"', text) == [
        "/static/torale/torale.css",
        "/static/torale/torale.js",
    ]
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", text)


def test_static_files_are_served(client):
    css = client.get("/static/torale/torale.css")
    js = client.get("/static/torale/torale.js")

    assert css.status_code == 200
    assert js.status_code == 200


def test_an_unknown_page_is_an_html_404(owner_client):
    response = owner_client.get("/no-such-page")

    assert response.status_code == 404
    assert "Not found" in response.text
    assert response["Content-Type"].startswith("text/html")


def test_the_api_keeps_its_json_404(owner_client):
    response = owner_client.get("/api/v1/no-such-endpoint")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_a_form_with_too_many_fields_gets_the_html_400_page_and_changes_nothing(
    owner_client, task, settings
):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    fields = {f"field{n}": "x" for n in range(60)}

    response = owner_client.post(f"/tasks/{task.pk}/edit", {**fields, "name": "Renamed"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Request not accepted" in response.text
    assert "Nothing was changed" in response.text
    task.refresh_from_db()
    assert task.name != "Renamed"


def test_the_500_page_says_nothing_was_lost_and_the_api_keeps_its_json(rf):
    page = server_error(rf.get("/tasks/new"))
    api = server_error(rf.get("/api/v1/tasks"))

    assert page.status_code == 500
    assert "Something went wrong" in page.content.decode()
    assert "Nothing was lost" in page.content.decode()
    assert api.status_code == 500
    assert json.loads(api.content) == {"detail": "Internal Server Error"}
