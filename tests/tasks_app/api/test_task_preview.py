import pytest

from executions_app.models import Execution
from tasks_app.models import Task
from tests.conftest import NO_PROVIDER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_search_provider")]

URL = "/api/v1/tasks/preview"
VALID = {
    "search_query": "When is the next iPhone being released?",
    "condition_description": "Apple has officially announced a specific release date",
}


@pytest.mark.parametrize("path", [URL, URL + "/"])
def test_without_a_search_provider_it_says_so(api, path):
    response = api.post(path, VALID, format="json")

    assert response.status_code == 503
    assert response.json() == NO_PROVIDER
    assert not Task.objects.exists()
    assert not Execution.objects.exists()


@pytest.mark.parametrize("field", ["search_query", "condition_description"])
def test_it_rejects_a_missing_field(api, field):
    data = {k: v for k, v in VALID.items() if k != field}

    response = api.post(URL, data, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body", field], "msg": "Field required", "type": "missing"}]
    }


@pytest.mark.parametrize("field", ["search_query", "condition_description"])
def test_it_rejects_text_shorter_than_10_characters(api, field):
    response = api.post(URL, {**VALID, field: "too short"}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", field],
                "msg": "String should have at least 10 characters",
                "type": "string_too_short",
            }
        ]
    }


def test_it_rejects_text_longer_than_500_characters(api):
    response = api.post(URL, {**VALID, "search_query": "q" * 501}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_too_long"


def test_it_rejects_a_number_as_query(api):
    response = api.post(URL, {**VALID, "search_query": 12345678901}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "string_type"


def test_it_rejects_a_body_that_is_not_an_object(api):
    response = api.post(URL, [VALID], format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_it_rejects_malformed_json(api):
    response = api.post(URL, data="{nope", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_it_needs_authentication(anon_api):
    response = anon_api.post(URL, VALID, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": "Authorization header missing"}


def test_it_is_not_a_task_id(api):
    """`preview` is its own route, not GET /tasks/{id} with id "preview"."""
    response = api.get(URL)

    assert response.status_code == 405
