"""The SDK and the server's OpenAPI schema (drf-spectacular) agree.

Every call the SDK can make (torale.sdk.calls, shared by the sync and async clients) is built
with every optional argument given, then checked against the schema: the path template and
method exist, the path and query parameters are documented, each body field is a documented
property, and the model the answer is read into has exactly the documented properties, down
through nested objects (with times documented as date-time), a field that may be None exactly
where the schema lets it be null or absent (the SDK refuses an answer lacking any other).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from datetime import datetime

import pytest

from torale import AsyncToraleClient, ToraleClient
from torale.sdk import calls
from torale.sdk.calls import Call

pytestmark = pytest.mark.django_db

ID = "7d0c7b7e-3a8e-4c35-9d6c-1f0f5e0b1a11"
CURRENT = {
    "name": "PS5 Monitor",
    "search_query": "PS5 availability Best Buy",
    "condition_description": "PS5 is in stock",
    "schedule": "0 * * * *",
    "notify_behavior": "once",
}

# Each call builder with every argument it takes (new builders must be added here).
SAMPLES: dict[str, list[Call]] = {
    "tasks_create": [
        calls.tasks_create(
            name="n",
            search_query="q" * 10,
            condition_description="c" * 10,
            schedule="0 9 * * *",
            notify_behavior="always",
            timezone="Europe/Paris",
            run_immediately=True,
        )
    ],
    "tasks_preview": [calls.tasks_preview(search_query="q" * 10, condition_description="c" * 10)],
    "tasks_suggest": [calls.tasks_suggest("Tell me when", current_task=CURRENT)],
    "tasks_list": [calls.tasks_list(active=True, page=2, limit=10)],
    "tasks_get": [calls.tasks_get(ID)],
    "tasks_update": [
        calls.tasks_update(
            ID,
            name="n",
            search_query="q" * 10,
            condition_description="c" * 10,
            schedule="0 9 * * *",
            notify_behavior="always",
            timezone="UTC",
            state="paused",
            is_active=False,
        )
    ],
    "tasks_delete": [calls.tasks_delete(ID)],
    "tasks_execute": [calls.tasks_execute(ID, force=True)],
    "executions_list": [calls.executions_list(ID, status="success", page=1, limit=5)],
    "executions_get": [calls.executions_get(ID, ID)],
    "notifications_list": [
        calls.notifications_list(page=1, limit=5),
        calls.notifications_list(task_id=ID, page=1, limit=5),
    ],
    "notifications_sends": [
        calls.notifications_sends(
            notification_type="email", status="sent", task_id=ID, limit=5, offset=5
        )
    ],
    "notifications_get_send": [calls.notifications_get_send(ID)],
}
RESOURCES = ("tasks", "executions", "notifications")
HELPERS = {"iter_all"}  # built from other calls, not calls of their own


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def resolve(schema: dict, node: dict) -> dict:
    """The schema a property stands for: through $ref and a nullable allOf/oneOf wrapper."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        elif "oneOf" in node or "anyOf" in node:
            options = [o for o in node.get("oneOf", node.get("anyOf")) if o.get("type") != "null"]
            assert len(options) == 1, node
            node = options[0]
        else:
            return node


def operation(schema: dict, call: Call) -> dict:
    assert call.path in schema["paths"], f"{call.path} is not in the schema"
    path_item = schema["paths"][call.path]
    assert call.method.lower() in path_item, f"{call.method} {call.path} is not in the schema"
    return path_item[call.method.lower()]


def parameters(path_item: dict, op: dict, where: str) -> set[str]:
    found = [*path_item.get("parameters", []), *op.get("parameters", [])]
    return {p["name"] for p in found if p["in"] == where}


def check_body(schema: dict, body: dict, node: dict, where: str) -> None:
    properties = resolve(schema, node).get("properties", {})
    for name, value in body.items():
        assert name in properties, f"{where}: body field {name!r} is not documented"
        if isinstance(value, dict):
            check_body(schema, value, properties[name], f"{where}.{name}")


def nullable(node: dict) -> bool:
    options = node.get("oneOf", node.get("anyOf", []))
    return bool(node.get("nullable")) or any(o.get("type") == "null" for o in options)


def check_model(schema: dict, model: type, node: dict, where: str) -> None:
    required = set(resolve(schema, node).get("required", []))
    properties = resolve(schema, node)["properties"]
    hints = typing.get_type_hints(model)
    fields = {f.name for f in dataclasses.fields(model)}
    assert fields == set(properties), (
        f"{where}: the model has {sorted(fields - set(properties))} beyond the schema and "
        f"lacks {sorted(set(properties) - fields)}"
    )
    for name in fields:
        tp, prop = hints[name], resolve(schema, properties[name])
        may_be_none = type(None) in typing.get_args(tp)
        assert may_be_none == (name not in required or nullable(properties[name])), (
            f"{where}.{name}: the model {'allows' if may_be_none else 'refuses'} None"
        )
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = args[0]
        if typing.get_origin(tp) is list:
            assert prop["type"] == "array", f"{where}.{name}"
            (tp,) = typing.get_args(tp)
            prop = resolve(schema, prop["items"])
        if tp is datetime:
            assert prop.get("format") == "date-time", f"{where}.{name}"
        if dataclasses.is_dataclass(tp):
            check_model(schema, tp, prop, f"{where}.{name}")


def success(op: dict) -> tuple[str, dict]:
    codes = sorted(code for code in op["responses"] if code.startswith("2"))
    assert len(codes) == 1, codes
    return codes[0], op["responses"][codes[0]]


def all_calls() -> list[tuple[str, Call]]:
    return [(name, call) for name, samples in SAMPLES.items() for call in samples]


def test_every_call_builder_has_a_sample():
    builders = {
        name
        for name, value in vars(calls).items()
        if inspect.isfunction(value) and name.split("_")[0] in RESOURCES
    }

    assert builders == set(SAMPLES)


@pytest.mark.parametrize("client_class", [ToraleClient, AsyncToraleClient])
def test_every_client_method_is_one_of_the_checked_calls(client_class):
    client = client_class(api_key="sk_test", base_url="http://127.0.0.1:9")
    methods = {
        f"{resource}_{name}"
        for resource in RESOURCES
        for name, _ in inspect.getmembers(getattr(client, resource), inspect.isroutine)
        if not name.startswith("_") and name not in HELPERS
    }

    assert methods == set(SAMPLES)


@pytest.mark.parametrize(("name", "call"), all_calls(), ids=[n for n, _ in all_calls()])
def test_the_call_is_the_documented_operation(schema, name, call):
    op = operation(schema, call)
    path_item = schema["paths"][call.path]

    assert set(call.path_params) == parameters(path_item, op, "path"), name
    assert set(call.params) <= parameters(path_item, op, "query"), name
    if call.json is None:
        assert "requestBody" not in op, f"{name} sends no body but one is documented"
    else:
        (content,) = op["requestBody"]["content"].values()
        check_body(schema, dict(call.json), content["schema"], name)


@pytest.mark.parametrize(("name", "call"), all_calls(), ids=[n for n, _ in all_calls()])
def test_the_answer_model_is_the_documented_answer(schema, name, call):
    code, response = success(operation(schema, call))

    if call.model is None:
        assert code == "204" and "content" not in response, name
        return
    body = response["content"]["application/json"]["schema"]
    check_model(schema, call.model, body, name)
