import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executions_app.models import Execution
from tasks_app.cron import INVALID_TIMEZONE
from tasks_app.models import Task
from tests.factories import REFERENCE_TASK_FIELDS, VALID_TASK
from tests.strategies import json_values

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks"


def error(field, msg, type_):
    return {"loc": ["body", field], "msg": msg, "type": type_}


def test_it_creates_a_task_with_defaults_and_returns_the_full_object(api, owner):
    response = api.post(URL, VALID_TASK, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == str(owner.pk)
    assert body["name"] == "When is the next iPhone being released"
    assert body["notify_behavior"] == "once"
    assert body["state"] == "active"
    assert body["last_known_state"] is None
    assert body["last_execution"] is None
    assert body["created_at"].endswith("Z")
    assert Task.objects.get(pk=body["id"]).owner == owner


def test_it_returns_exactly_the_reference_task_fields(api):
    response = api.post(
        URL,
        {**VALID_TASK, "name": "iPhone Release Monitor", "notify_behavior": "always"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) >= REFERENCE_TASK_FIELDS
    assert body["name"] == "iPhone Release Monitor"
    assert body["search_query"] == VALID_TASK["search_query"]
    assert body["condition_description"] == VALID_TASK["condition_description"]
    assert body["schedule"] == "0 9 * * *"
    assert body["notify_behavior"] == "always"
    assert body["last_execution_id"] is None
    task = Task.objects.get(pk=body["id"])
    assert task.name == "iPhone Release Monitor" and task.notify_behavior == "always"


def test_it_does_not_run_the_task_unless_asked(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(URL, {**VALID_TASK, "run_immediately": False}, format="json")

    assert response.status_code == 201
    assert not Execution.objects.exists()
    assert callbacks == []


def test_run_immediately_creates_a_pending_immediate_run(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post(URL, {**VALID_TASK, "run_immediately": True}, format="json")

    assert response.status_code == 201
    execution = Execution.objects.get(task_id=response.json()["id"])
    assert execution.trigger == "immediate" and execution.status == "pending"
    assert response.json()["last_execution"]["status"] == "pending"
    assert response.json()["last_execution_id"] == str(execution.id)
    assert len(callbacks) == 1


# --- Required fields --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["search_query", "condition_description", "schedule"])
def test_it_rejects_a_missing_required_field(api, field):
    data = {k: v for k, v in VALID_TASK.items() if k != field}

    response = api.post(URL, data, format="json")

    assert response.status_code == 422
    assert response.json() == {"detail": [error(field, "Field required", "missing")]}
    assert not Task.objects.exists()


def test_it_reports_every_missing_field_of_an_empty_body(api):
    response = api.post(URL, {}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            error("search_query", "Field required", "missing"),
            error("condition_description", "Field required", "missing"),
            error("schedule", "Field required", "missing"),
        ]
    }


def test_it_treats_a_request_without_a_body_as_an_empty_object(api):
    response = api.post(URL)

    assert response.status_code == 422
    assert {tuple(item["loc"]) for item in response.json()["detail"]} == {
        ("body", "search_query"),
        ("body", "condition_description"),
        ("body", "schedule"),
    }


# --- Lengths --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["search_query", "condition_description"])
@pytest.mark.parametrize("length", [10, 500])
def test_it_accepts_text_of_10_to_500_characters(api, field, length):
    value = "q" * length

    response = api.post(URL, {**VALID_TASK, field: value}, format="json")

    assert response.status_code == 201
    assert response.json()[field] == value
    assert getattr(Task.objects.get(pk=response.json()["id"]), field) == value


@pytest.mark.parametrize("field", ["search_query", "condition_description"])
def test_it_rejects_text_of_9_characters(api, field):
    response = api.post(URL, {**VALID_TASK, field: "q" * 9}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error(field, "String should have at least 10 characters", "string_too_short")]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize("field", ["search_query", "condition_description"])
def test_it_rejects_text_of_501_characters(api, field):
    response = api.post(URL, {**VALID_TASK, field: "q" * 501}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error(field, "String should have at most 500 characters", "string_too_long")]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize("field", ["search_query", "condition_description"])
def test_it_rejects_empty_text(api, field):
    response = api.post(URL, {**VALID_TASK, field: ""}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        error(field, "String should have at least 10 characters", "string_too_short")
    ]


def test_it_accepts_a_name_of_200_characters(api):
    response = api.post(URL, {**VALID_TASK, "name": "n" * 200}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "n" * 200


def test_it_rejects_a_name_of_201_characters(api):
    response = api.post(URL, {**VALID_TASK, "name": "n" * 201}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("name", "String should have at most 200 characters", "string_too_long")]
    }
    assert not Task.objects.exists()


# --- Generated names ----------------------------------------------------------------------


def test_an_omitted_name_is_generated_from_the_query(api):
    data = {**VALID_TASK, "search_query": "price of bitcoin in euro today?"}

    response = api.post(URL, data, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "Price of bitcoin in euro today"


def test_a_null_name_is_generated_from_the_query(api):
    response = api.post(URL, {**VALID_TASK, "name": None}, format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "When is the next iPhone being released"


def test_a_name_generated_from_a_long_query_is_shortened_at_a_word(api):
    query = "Is there any news about " + "the quite long awaited release " * 10
    response = api.post(URL, {**VALID_TASK, "search_query": query}, format="json")

    assert response.status_code == 201
    name = response.json()["name"]
    assert name.startswith("Is there any news about the quite long awaited release")
    assert name.endswith("…")
    assert len(name) <= 81
    assert query.startswith(name[:-1])


# --- Types and choices -------------------------------------------------------------------


def test_it_rejects_a_number_as_search_query(api):
    response = api.post(URL, {**VALID_TASK, "search_query": 12345678901}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("search_query", "Input should be a valid string", "string_type")]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize("value", [["a list of words"], {"text": "an object"}, True])
def test_it_rejects_non_string_text(api, value):
    response = api.post(URL, {**VALID_TASK, "condition_description": value}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        error("condition_description", "Input should be a valid string", "string_type")
    ]


def test_it_rejects_a_run_immediately_that_is_not_a_boolean(api):
    response = api.post(URL, {**VALID_TASK, "run_immediately": "maybe"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("run_immediately", "Input should be a valid boolean", "bool_type")]
    }
    assert not Task.objects.exists()
    assert not Execution.objects.exists()


@pytest.mark.parametrize("value", ["never", "ONCE", "", 1, None])
def test_it_rejects_a_notify_behavior_other_than_once_or_always(api, value):
    response = api.post(URL, {**VALID_TASK, "notify_behavior": value}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("notify_behavior", "Input should be 'once' or 'always'", "enum")]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize("value", ["once", "always"])
def test_it_accepts_each_notify_behavior(api, value):
    response = api.post(URL, {**VALID_TASK, "notify_behavior": value}, format="json")

    assert response.status_code == 201
    assert response.json()["notify_behavior"] == value


def test_it_ignores_unknown_fields_and_read_only_ones(api, owner, other_user):
    foreign_id = "11111111-1111-1111-1111-111111111111"
    data = {
        **VALID_TASK,
        "id": foreign_id,
        "user_id": str(other_user.pk),
        "state": "paused",
        "is_active": False,
        "last_known_state": {"answer": "x", "timestamp": "2024-01-01T00:00:00Z"},
        "colour": "blue",
    }

    response = api.post(URL, data, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["id"] != foreign_id
    assert body["user_id"] == str(owner.pk)
    assert body["state"] == "active"
    assert body["last_known_state"] is None
    assert Task.objects.get().owner == owner


def test_it_answers_the_same_when_the_path_has_a_trailing_slash(api):
    response = api.post(URL + "/", VALID_TASK, format="json")

    assert response.status_code == 201
    assert Task.objects.filter(pk=response.json()["id"]).exists()


# --- Cron ---------------------------------------------------------------------------------


def test_it_rejects_a_six_field_cron(api):
    response = api.post(URL, {**VALID_TASK, "schedule": "0 0 9 * * *"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "schedule"], "msg": "Invalid cron expression", "type": "value_error"}
        ]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "schedule",
    [
        "invalid",
        "0 9 * *",  # four fields
        "0 0 9 * * *",  # six fields (seconds)
        "61 * * * *",  # minute out of range
        "* * 32 * *",  # day of month out of range
        "",
        "   ",
        "0 9 30 2 *",  # February 30th never comes
        "0 0 31 2,4 *",  # neither does February or April 31st
        "R * * * *",  # croniter's random values
        "H 9 * * *",  # croniter's hashed values
        "@daily",  # nicknames are not five fields
        "*/0 * * * *",
        "0 9 * * 8",
    ],
)
def test_it_rejects_an_invalid_cron(api, schedule):
    response = api.post(URL, {**VALID_TASK, "schedule": schedule}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [error("schedule", "Invalid cron expression", "value_error")]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "schedule",
    ["*/30 * * * *", "0 9 * * mon-fri", "0 9 L * *", "0 */6 * * *", "0 0 29 2 *", "0 9 1 1 *"],
)
def test_it_accepts_a_valid_five_field_cron(api, schedule):
    response = api.post(URL, {**VALID_TASK, "schedule": schedule}, format="json")

    assert response.status_code == 201
    assert response.json()["schedule"] == schedule
    assert Task.objects.get().schedule == schedule


def test_it_stores_a_cron_with_single_spaces(api):
    response = api.post(URL, {**VALID_TASK, "schedule": "  0  9 *\t* mon-fri "}, format="json")

    assert response.status_code == 201
    assert response.json()["schedule"] == "0 9 * * mon-fri"


def test_it_rejects_a_cron_too_long_to_store_instead_of_failing(api):
    minutes = ",".join(str(m) for m in range(25))  # 64 characters
    hours = ",".join(str(h) for h in range(24))  # 61 characters
    long_but_valid = f"{minutes} {hours} * * *"

    response = api.post(URL, {**VALID_TASK, "schedule": long_but_valid}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        error("schedule", "String should have at most 100 characters", "string_too_long")
    ]
    assert not Task.objects.exists()


def test_it_rejects_a_number_as_schedule(api):
    response = api.post(URL, {**VALID_TASK, "schedule": 9}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        error("schedule", "Input should be a valid string", "string_type")
    ]


# --- Malformed bodies ---------------------------------------------------------------------


def test_it_rejects_malformed_json(api):
    response = api.post(URL, data='{"search_query": "When is', content_type="application/json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["type"] == "json_invalid"
    assert item["loc"][0] == "body"
    assert not Task.objects.exists()


def test_it_reads_the_body_as_json_whatever_the_content_type(api):
    """curl -d sends application/x-www-form-urlencoded unless told otherwise."""
    response = api.post(
        URL, data=json.dumps(VALID_TASK), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 201
    assert response.json()["search_query"] == VALID_TASK["search_query"]


def test_it_rejects_a_json_array_body(api):
    response = api.post(URL, [VALID_TASK], format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "type": "dict_type",
            }
        ]
    }
    assert not Task.objects.exists()


@pytest.mark.parametrize("body", ["null", '"a string"', "42", "true"])
def test_it_rejects_a_json_body_that_is_not_an_object(api, body):
    response = api.post(URL, data=body, content_type="application/json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body"]
    assert item["type"] == "dict_type"


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the decoder recurses
        b'{"search_query": ' + b"1" * 5000 + b"}",  # more digits than Python converts
    ],
    ids=["not-utf8", "deep-nesting", "huge-integer"],
)
def test_it_rejects_undecodable_json_without_failing(api, body):
    response = api.post(URL, data=body, content_type="application/json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["type"] == "json_invalid"
    assert item["loc"][0] == "body"


def test_it_rejects_text_with_a_lone_surrogate_without_failing(api):
    body = json.dumps(VALID_TASK)[:-1] + ', "name": "broken \\ud800 name"}'

    response = api.post(URL, data=body, content_type="application/json")

    assert response.status_code == 422
    assert not Task.objects.exists()


def test_it_rejects_a_nul_character_without_failing(api):
    response = api.post(URL, {**VALID_TASK, "name": "nul \x00 inside"}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(
        [
            "name",
            "search_query",
            "condition_description",
            "schedule",
            "notify_behavior",
            "run_immediately",
        ]
    ),
    value=json_values
    | st.text(min_size=8, max_size=40)
    | st.from_regex(r"[0-9*/,\-LW#?a-z ]{5,30}", fullmatch=True),
)
def test_no_value_of_any_field_makes_it_fail(api, field, value):
    response = api.post(URL, {**VALID_TASK, field: value}, format="json")

    assert response.status_code in (201, 422), response.content
    if response.status_code == 422:
        for item in response.json()["detail"]:
            assert set(item) >= {"loc", "msg", "type"}
            assert item["loc"][0] == "body"


def test_a_body_over_the_size_limit_is_refused_with_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = {**VALID_TASK, "pad": "x" * 5000}

    response = api.post("/api/v1/tasks", body, format="json")

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (at most 4096 bytes)"}
    assert not Task.objects.exists()


def test_it_stores_the_time_zone_given(api):
    response = api.post(URL, {**VALID_TASK, "timezone": "America/New_York"}, format="json")

    assert response.status_code == 201
    assert response.json()["timezone"] == "America/New_York"
    assert Task.objects.get().timezone == "America/New_York"


# "localtime" is a file in the host's zoneinfo folder, not a zone: it means whatever the
# server is set to.
@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "localtime", "posixrules"])
def test_it_rejects_a_name_that_is_not_an_iana_zone(api, zone):
    response = api.post(URL, {**VALID_TASK, "timezone": zone}, format="json")

    assert response.status_code == 422
    assert response.json() == {"detail": [error("timezone", INVALID_TIMEZONE, "value_error")]}
    assert not Task.objects.exists()
