"""The user admin: Django's UserAdmin with Torale's time zone, links to the user's tasks and
keys, and a delete that removes the tasks' schedules."""

from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from tasks_app.models import Task
from tests.factories import make_execution, make_task
from torale.models import User

pytestmark = pytest.mark.django_db

USERS = "/admin/torale/user/"


def change_data(user: User, **changes) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "timezone": user.timezone,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    return {**data, **changes}


def test_a_non_staff_user_is_sent_to_the_admin_login(owner_client):
    response = owner_client.get(USERS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_list_shows_the_time_zone_and_finds_a_user_by_id(admin_client, owner, other_user):
    owner.timezone = "America/New_York"
    owner.save()

    listing = admin_client.get(USERS).content.decode()
    found = admin_client.get(USERS, {"q": str(other_user.pk)})

    assert "America/New_York" in listing
    assert [u.pk for u in found.context["cl"].result_list] == [other_user.pk]


def test_the_user_page_links_tasks_and_keys_and_hides_the_password(admin_client, owner):
    response = admin_client.get(f"{USERS}{owner.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    assert f"/admin/tasks_app/task/?owner={owner.pk}" in html
    assert f"/admin/torale/apikey/?user={owner.pk}" in html
    assert owner.password not in html


def test_the_time_zone_follows_the_services_rule(admin_client, owner):
    bad = admin_client.post(f"{USERS}{owner.pk}/change/", change_data(owner, timezone="Nowhere"))
    good = admin_client.post(
        f"{USERS}{owner.pk}/change/", change_data(owner, timezone="Europe/Berlin")
    )

    assert bad.status_code == 200 and "Unknown time zone" in bad.content.decode()
    assert good.status_code == 302
    owner.refresh_from_db()
    assert owner.timezone == "Europe/Berlin"


def test_another_accounts_address_is_refused_in_any_case(admin_client, owner, other_user):
    taken = other_user.email.upper()

    response = admin_client.post(f"{USERS}{owner.pk}/change/", change_data(owner, email=taken))

    assert response.status_code == 200
    assert "An account with this email exists already." in response.content.decode()
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"


def test_an_operator_can_add_a_user(admin_client):
    response = admin_client.post(
        f"{USERS}add/",
        {
            "username": "newcomer",
            "email": "newcomer@example.com",
            "timezone": "Asia/Tokyo",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase-42",
            "password2": "a-long-unusual-passphrase-42",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert user.timezone == "Asia/Tokyo" and user.check_password("a-long-unusual-passphrase-42")


def test_deleting_a_user_removes_their_tasks_schedules(admin_client, owner, task):
    make_execution(task)
    periodic_id = task.periodic_task_id

    page = admin_client.get(f"{USERS}{owner.pk}/delete/")
    response = admin_client.post(f"{USERS}{owner.pk}/delete/", {"post": "yes"})

    assert "Executions: 1" in page.content.decode()
    assert response.status_code == 302
    assert not User.objects.filter(pk=owner.pk).exists()
    assert not Task.objects.filter(pk=task.pk).exists()
    assert not PeriodicTask.objects.filter(pk=periodic_id).exists()


def test_bulk_deleting_users_removes_their_schedules(admin_client, owner, other_user):
    make_task(owner)
    make_task(other_user)

    admin_client.post(
        USERS,
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(owner.pk), str(other_user.pk)],
        },
    )

    assert not Task.objects.exists()
    assert not PeriodicTask.objects.filter(name__startswith="torale-task:").exists()
