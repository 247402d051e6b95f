import pytest

from tasks_app.models import Task
from tests.conftest import NO_PROVIDER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_search_provider")]

URL = "/api/v1/tasks/suggest"
PROMPT = {"prompt": "Notify me when the PS5 Pro is in stock at Best Buy"}
CURRENT_TASK = {
    "name": "PS5 Monitor",
    "search_query": "PS5 availability Best Buy",
    "condition_description": "PS5 is in stock",
    "schedule": "0 * * * *",
    "notify_behavior": "once",
}


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_without_a_search_provider_it_says_so(api, path):
    response = api.post(path, PROMPT, format="json")

    assert response.status_code == 503
    assert response.json() == NO_PROVIDER
    assert not Task.objects.exists()


@pytest.mark.parametrize("current_task", [CURRENT_TASK, {}, None])
def test_a_valid_current_task_passes_validation(api, current_task):
    response = api.post(URL, {**PROMPT, "current_task": current_task}, format="json")

    assert response.status_code == 503
    assert response.json() == NO_PROVIDER


def test_it_rejects_a_missing_prompt(api):
    response = api.post(URL, {"current_task": CURRENT_TASK}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]
    }


@pytest.mark.parametrize(
    ("prompt", "type_"),
    [("", "string_too_short"), (None, "string_type"), (42, "string_type")],
)
def test_it_rejects_an_empty_or_non_string_prompt(api, prompt, type_):
    response = api.post(URL, {"prompt": prompt}, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "prompt"]
    assert item["type"] == type_


@pytest.mark.parametrize("current_task", ["PS5 Monitor", ["PS5 Monitor"], 3])
def test_it_rejects_a_current_task_that_is_not_an_object(api, current_task):
    response = api.post(URL, {**PROMPT, "current_task": current_task}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "current_task"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "type": "dict_type",
            }
        ]
    }


def test_it_locates_errors_inside_the_current_task(api):
    response = api.post(
        URL, {**PROMPT, "current_task": {**CURRENT_TASK, "notify_behavior": "never"}}, format="json"
    )

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "current_task", "notify_behavior"]
    assert item["type"] == "enum"


def test_it_rejects_a_body_that_is_not_an_object(api):
    response = api.post(URL, ["prompt"], format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_it_needs_authentication(anon_api):
    response = anon_api.post(URL, PROMPT, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authorization header missing"}
