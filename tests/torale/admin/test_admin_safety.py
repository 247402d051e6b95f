"""What the admin lets an operator do: actions need the change permission, records stay
records (deliveries, crontabs that task mirrors use), and a change list with a lookup the
database cannot run redirects to Django's "invalid lookup" page instead of failing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from executions_app.channels import channel_account_email, channel_create, task_channels_set
from executions_app.models import Channel, Delivery, DeliveryStatus, ExecutionStatus
from tasks_app.models import Task, TaskState
from tests.factories import make_api_key, make_delivery, make_execution, make_task, make_user
from torale.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client() -> Client:
    """A staff member who may look at everything and change nothing."""
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(viewer)
    return client


def act(client, changelist: str, action: str, *pks):
    return client.post(
        changelist, {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True
    )


def offered_actions(client, changelist: str) -> list[str]:
    response = client.get(changelist)
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action is offered
    if form is None:
        return []
    return [name for name, _ in form.fields["action"].choices if name]


# --- Actions need the change permission -----------------------------------------------------


@pytest.mark.parametrize(
    "changelist",
    [
        "/admin/tasks_app/task/",
        "/admin/torale/apikey/",
        "/admin/executions_app/delivery/",
        "/admin/django_celery_beat/periodictask/",
    ],
)
def test_a_view_only_operator_is_offered_no_actions(viewer_client, changelist):
    assert offered_actions(viewer_client, changelist) == []


@pytest.mark.parametrize("action", ["pause", "run_now", "run_now_force"])
def test_a_view_only_operator_cannot_act_on_tasks(viewer_client, task, action):
    act(viewer_client, "/admin/tasks_app/task/", action, task.pk)

    task.refresh_from_db()
    assert task.state == TaskState.ACTIVE
    assert not task.executions.exists()


def test_a_view_only_operator_cannot_resume_a_task(viewer_client, owner):
    paused = make_task(owner, state=TaskState.PAUSED)

    act(viewer_client, "/admin/tasks_app/task/", "resume", paused.pk)

    assert Task.objects.get(pk=paused.pk).state == TaskState.PAUSED


def test_a_view_only_operator_cannot_revoke_a_key(viewer_client, owner):
    make_api_key(owner)
    key = ApiKey.objects.get(user=owner)

    act(viewer_client, "/admin/torale/apikey/", "revoke", key.pk)

    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_view_only_operator_cannot_retry_a_delivery(viewer_client, task):
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    failed = make_delivery(run, status=DeliveryStatus.FAILED, error_message="HTTP 500")

    act(viewer_client, "/admin/executions_app/delivery/", "retry_failed", failed.pk)

    assert Delivery.objects.get(pk=failed.pk).status == DeliveryStatus.FAILED


def test_an_operator_with_change_permission_still_runs_the_actions(admin_client, task):
    assert "pause" in offered_actions(admin_client, "/admin/tasks_app/task/")
    assert "retry_failed" in offered_actions(admin_client, "/admin/executions_app/delivery/")

    act(admin_client, "/admin/tasks_app/task/", "pause", task.pk)

    task.refresh_from_db()
    assert task.state == TaskState.PAUSED


# --- Records stay records --------------------------------------------------------------------


@pytest.fixture
def delivery(task) -> Delivery:
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    return make_delivery(run, status=DeliveryStatus.SENT, attempts=1)


def test_a_delivery_cannot_be_deleted_even_by_a_superuser(admin_client, delivery):
    url = f"/admin/executions_app/delivery/{delivery.pk}/delete/"

    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert "delete_selected" not in offered_actions(admin_client, "/admin/executions_app/delivery/")
    assert Delivery.objects.filter(pk=delivery.pk).exists()


def test_a_delivery_page_is_read_only_with_no_save_button(admin_client, delivery):
    url = f"/admin/executions_app/delivery/{delivery.pk}/change/"

    page = admin_client.get(url).text
    refused = admin_client.post(url, {"recipient": "someone-else@example.com"})

    assert 'name="_save"' not in page
    assert delivery.recipient in page
    assert refused.status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).recipient == delivery.recipient


def test_a_crontab_that_task_mirrors_use_is_read_only(admin_client, task):
    crontab = PeriodicTask.objects.get(pk=task.periodic_task_id).crontab
    url = f"/admin/django_celery_beat/crontabschedule/{crontab.pk}/change/"
    edit = {
        "minute": "*/1",
        "hour": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "day_of_week": "*",
        "timezone": "UTC",
    }

    page = admin_client.get(url).text
    refused = admin_client.post(url, edit)

    assert "change the schedule on the task instead" in page
    assert 'name="_save"' not in page
    assert refused.status_code == 403
    assert admin_client.post(f"{url[: -len('change/')]}delete/", {"post": "yes"}).status_code == 403
    crontab.refresh_from_db()
    assert (crontab.minute, crontab.hour) == ("0", "9")


def test_a_crontab_no_mirror_uses_can_still_be_edited(admin_client):
    spare = CrontabSchedule.objects.create(minute="5", hour="4", timezone="UTC")
    url = f"/admin/django_celery_beat/crontabschedule/{spare.pk}/change/"

    response = admin_client.post(
        url,
        {
            "minute": "6",
            "hour": "4",
            "day_of_month": "*",
            "month_of_year": "*",
            "day_of_week": "*",
            "timezone": "UTC",
            # the change form's (empty) inline of periodic tasks using this crontab
            "periodictask_set-TOTAL_FORMS": "0",
            "periodictask_set-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    spare.refresh_from_db()
    assert spare.minute == "6"


# --- Lookups the database cannot run ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/admin/executions_app/channel/?created_at__year=99999",
        "/admin/tasks_app/task/?updated_at__year=99999",
        "/admin/tasks_app/task/?next_run_at__year=0",
        "/admin/tasks_app/task/?name__regex=(((",
        "/admin/torale/apikey/?last_used_at__year=99999",
        "/admin/executions_app/execution/?started_at__year=99999",
        "/admin/django_celery_beat/periodictask/?last_run_at__year=99999",
        "/admin/django_celery_beat/clockedschedule/?clocked_time__year=99999",
        "/admin/auth/group/?name__regex=(((",
        "/admin/tasks_app/task/?name__range=a",
        "/admin/tasks_app/task/?name__range=abc",
        "/admin/executions_app/execution/?attempts__range=123",
    ],
)
def test_a_lookup_the_database_cannot_run_redirects_to_the_invalid_lookup_page(
    admin_client, task, path
):
    response = admin_client.get(path)

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")
    assert admin_client.get(response["Location"]).status_code == 200
    # The connection is still usable afterwards (PostgreSQL aborts a transaction on errors).
    assert Task.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize(
    "path",
    [
        # PostgreSQL runs these; SQLite has no JSON containment and refuses them.
        "/admin/tasks_app/task/?last_known_state__contains=x",
        "/admin/executions_app/execution/?grounding_sources__contains=x",
        "/admin/executions_app/execution/?attempt_errors__contained_by=[",
    ],
)
def test_json_lookups_filter_or_redirect_but_never_fail(admin_client, task, path):
    assert admin_client.get(path).status_code in (200, 302)


def test_a_valid_lookup_still_filters(admin_client, task, owner):
    make_task(owner, name="Another")

    response = admin_client.get("/admin/tasks_app/task/?name__regex=^Own")

    assert response.status_code == 200
    assert [t.name for t in response.context["cl"].result_list] == [task.name]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/torale/apikey/?key_hash__startswith=a",
        "/admin/executions_app/channel/?secret__startswith=gAAAA",
        "/admin/executions_app/channel/?target__contains=example",
        "/admin/torale/user/?password__startswith=p",
        "/admin/tasks_app/task/?owner__password__startswith=p",
    ],
)
def test_secret_fields_cannot_be_probed_through_lookups(admin_client, owner, path):
    make_api_key(owner)

    response = admin_client.get(path)

    assert response.status_code == 400
    assert "Request not accepted" in response.text


# --- Channels go through the channel service's rules ------------------------------------------


@pytest.fixture
def only_channel(owner, task):
    channel, _ = channel_create(user=owner, kind="email", target="alerts@example.com")
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    return channel


def test_a_channel_that_is_a_tasks_only_choice_is_not_deleted_in_the_admin(
    admin_client, only_channel
):
    url = f"/admin/executions_app/channel/{only_channel.pk}/delete/"

    response = admin_client.post(url, {"post": "yes"}, follow=True)

    assert Channel.objects.filter(pk=only_channel.pk).exists()
    assert "is the only channel of “Owner&#x27;s task”" in response.text


def test_a_channel_no_task_depends_on_is_deleted_in_the_admin(admin_client, owner):
    spare, _ = channel_create(user=owner, kind="email", target="spare@example.com")

    response = admin_client.post(
        f"/admin/executions_app/channel/{spare.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Channel.objects.filter(pk=spare.pk).exists()


def test_the_account_email_cannot_be_deleted_in_the_admin(admin_client, owner):
    account = channel_account_email(user=owner)

    response = admin_client.post(
        f"/admin/executions_app/channel/{account.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    assert Channel.objects.filter(pk=account.pk).exists()


def test_channels_have_no_bulk_delete(admin_client, only_channel):
    assert "delete_selected" not in offered_actions(admin_client, "/admin/executions_app/channel/")
