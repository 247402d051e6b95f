import re

import pytest

from tests.factories import REFERENCE_TASK_FIELDS

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/tasks": {"get", "post"},
    "/api/v1/tasks/{id}": {"get", "put", "patch", "delete"},
    "/api/v1/tasks/{id}/execute": {"post"},
    "/api/v1/tasks/preview": {"post"},
    "/api/v1/tasks/suggest": {"post"},
    "/api/v1/tasks/{task_id}/notifications": {"get"},
    "/api/v1/tasks/{task_id}/channels": {"get", "put"},
    "/api/v1/notifications": {"get"},
    "/api/v1/notifications/sends": {"get"},
    "/api/v1/notifications/sends/{id}": {"get"},
    "/api/v1/notifications/sends/{id}/retry": {"post"},
    "/api/v1/notifications/channels": {"get", "post"},
    "/api/v1/notifications/channels/{id}": {"get", "patch", "delete"},
    "/api/v1/notifications/channels/{id}/test": {"post"},
    "/api/v1/notifications/channels/{id}/rotate-secret": {"post"},
    "/api/v1/webhooks/config": {"get", "put", "delete"},
    "/api/v1/webhooks/test": {"post"},
    "/auth/api-keys": {"get", "post"},
    "/auth/api-keys/{id}": {"delete"},
    "/auth/me": {"get"},
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    return node


def test_it_is_an_openapi_3_document_served_without_authentication(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Torale API"


@pytest.mark.parametrize("path", sorted(PATHS))
def test_it_documents_every_endpoint_at_the_reference_path(schema, path):
    assert path in schema["paths"], sorted(schema["paths"])
    methods = {m for m in schema["paths"][path] if m != "parameters"}
    assert PATHS[path] <= methods


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/tasks", "get"),
        ("/api/v1/tasks", "post"),
        ("/api/v1/tasks/{id}", "put"),
        ("/api/v1/tasks/preview", "post"),
        ("/api/v1/tasks/suggest", "post"),
        ("/auth/api-keys", "post"),
        ("/api/v1/notifications/sends", "get"),
        ("/api/v1/webhooks/config", "put"),
        ("/api/v1/notifications/channels", "post"),
        ("/api/v1/tasks/{task_id}/channels", "put"),
    ],
)
def test_it_documents_422_with_the_loc_msg_type_shape(schema, path, method):
    response = schema["paths"][path][method]["responses"]["422"]
    body = resolve(schema, response["content"]["application/json"]["schema"])

    detail = body["properties"]["detail"]
    assert detail["type"] == "array"
    item = resolve(schema, detail["items"])
    assert {"loc", "msg", "type"} <= set(item["properties"])
    assert item["properties"]["loc"]["type"] == "array"


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/tasks", "post", {"201", "401", "422", "429"}),
        ("/api/v1/tasks/{id}", "get", {"200", "401", "403", "404"}),
        ("/api/v1/tasks/{id}", "put", {"200", "400", "401", "403", "404", "422"}),
        ("/api/v1/tasks/{id}", "patch", {"200", "400", "401", "403", "404", "422"}),
        ("/api/v1/tasks/{id}", "delete", {"204", "401", "403", "404"}),
        ("/api/v1/tasks/{id}/execute", "post", {"202", "401", "403", "404", "409"}),
        ("/api/v1/tasks/preview", "post", {"200", "422", "503"}),
        ("/api/v1/tasks/{task_id}/notifications", "get", {"200", "401", "403", "404", "422"}),
        ("/api/v1/notifications/sends", "get", {"200", "401", "403", "404", "422"}),
        ("/api/v1/notifications/sends/{id}/retry", "post", {"202", "401", "404", "409"}),
        ("/api/v1/notifications/channels/{id}", "delete", {"204", "400", "401", "404"}),
        ("/api/v1/webhooks/config", "delete", {"204", "401", "404"}),
        ("/api/v1/webhooks/test", "post", {"200", "400", "401"}),
        ("/api/v1/tasks/{task_id}/channels", "put", {"200", "401", "403", "404", "422"}),
    ],
)
def test_it_documents_the_error_answers(schema, path, method, codes):
    assert codes <= set(schema["paths"][path][method]["responses"])


def test_the_task_object_has_every_reference_field(schema):
    ok = schema["paths"]["/api/v1/tasks/{id}"]["get"]["responses"]["200"]
    task = resolve(schema, ok["content"]["application/json"]["schema"])

    assert set(task["properties"]) >= REFERENCE_TASK_FIELDS


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/api/v1/tasks", "tasks"),
        ("/api/v1/tasks/{task_id}/executions", "executions"),
        ("/api/v1/notifications", "notifications"),
        ("/api/v1/notifications/sends", "sends"),
        ("/api/v1/notifications/channels", "channels"),
    ],
)
def test_a_list_answer_is_documented_as_the_object_it_is(schema, path, key):
    ok = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    body = resolve(schema, ok["schema"])

    assert body.get("type") != "array"
    assert body["properties"][key]["type"] == "array"


def test_no_channel_answer_documents_a_target(schema):
    channel = schema["components"]["schemas"]["ChannelOutput"]["properties"]

    assert "target" not in channel and "secret" not in channel


def test_it_documents_the_bearer_api_key(schema):
    schemes = schema["components"]["securitySchemes"]

    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())


def test_the_docs_page_answers_without_authentication(anon_api):
    response = anon_api.get("/api/docs/")

    assert response.status_code == 200
    assert b"/api/schema" in response.content


def test_the_docs_page_loads_swagger_ui_from_this_server(anon_api, client):
    # A self-hosted install may have no internet: every asset the page loads must be ours.
    html = anon_api.get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)

    assert assets, "the docs page references no assets"
    assert all(url.startswith("/") and not url.startswith("//") for url in assets), assets
    scripts = [url for url in assets if url.endswith(".js")]
    assert scripts
    for url in scripts:
        response = client.get(url)
        assert response.status_code == 200, url


def test_every_request_body_is_documented_as_json(schema):
    bodies = {
        (path, method): set(operation["requestBody"]["content"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    }

    assert bodies
    assert {key: types for key, types in bodies.items() if types != {"application/json"}} == {}
