"""The reference's Python examples, run as written against a live server.

Only three things change: the API key (and base URL) given to ToraleClient, and the example
task id, which becomes a real task's id. Each example section runs in one shared namespace,
in order, as a reader pasting the block into a REPL would run it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from executions_app.models import Execution
from tasks_app.models import Task
from tests.factories import make_task
from tests.sdk.reference_examples import (
    ERROR_HANDLING_EXAMPLE,
    EXAMPLE_API_KEY,
    EXAMPLE_TASK_ID,
    USAGE_EXAMPLE,
)
from torale import ToraleClient

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_84cee5221f5e0769.txt"


def with_server(code: str, key: str, url: str) -> str:
    assert code.count(EXAMPLE_API_KEY) == 1
    return code.replace(EXAMPLE_API_KEY, f"api_key={key!r}, base_url={url!r}")


def sections(code: str) -> dict[str, str]:
    """The example split at its blank lines, keyed by each part's leading comment; the
    parts before the first comment (import, client) are "setup"."""
    parts: dict[str, str] = {}
    for part in code.split("\n\n"):
        first = part.lstrip().splitlines()[0]
        title = first.lstrip("# ") if first.startswith("#") else "setup"
        parts[title] = f"{parts[title]}\n\n{part}" if title in parts else part
    return parts


def run(code: str, namespace: dict) -> None:
    exec(compile(code, "<reference example>", "exec"), namespace)  # noqa: S102


@pytest.fixture
def namespace() -> Iterator[dict]:
    """The examples' globals; the client they make is closed afterwards (the examples never
    close it, and an open keep-alive connection holds a server thread and its database
    session)."""
    names: dict = {}
    yield names
    client = names.get("client")
    if isinstance(client, ToraleClient):
        client.close()


def test_the_copies_are_the_references_python_blocks():
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is not here to compare with")

    blocks = re.findall(r"```python\n(.*?)```", REFERENCE.read_text(), re.S)

    assert blocks == [USAGE_EXAMPLE, ERROR_HANDLING_EXAMPLE]


def test_the_usage_example_runs_against_a_server(
    server_url, owner, owner_key, gemini, capsys, namespace
):
    parts = sections(with_server(USAGE_EXAMPLE, owner_key, server_url))
    assert list(parts) == [
        "setup",
        "Create task",
        "Preview before creating",
        "List tasks",
        "Get specific task",
        "Update task",
        "Delete task",
        "Execute manually",
    ]
    older = make_task(owner, name="An older task")

    run(parts["setup"], namespace)
    run(parts["Create task"], namespace)
    created = namespace["task"]
    assert created.name == "iPhone Release Monitor"
    assert created.notify_behavior == "once"
    assert created.state == "active"
    assert Task.objects.filter(pk=created.id, owner=owner).exists()

    run(parts["Preview before creating"], namespace)
    preview = namespace["preview"]
    assert preview.condition_met is True
    assert preview.answer and preview.reasoning
    assert [source.uri for source in preview.grounding_sources]
    assert Task.objects.count() == 2  # a preview saves nothing

    run(parts["List tasks"], namespace)
    assert [t.id for t in namespace["tasks"]] == [created.id, str(older.id)]

    # The example's id, for the three calls on one task, is the task the example created.
    for title in ("Get specific task", "Update task", "Delete task"):
        run(parts[title].replace(EXAMPLE_TASK_ID, created.id), namespace)
        if title == "Get specific task":
            assert namespace["task"].id == created.id
        if title == "Update task":
            assert namespace["task"].schedule == "0 */6 * * *"
            assert Task.objects.get(pk=created.id).schedule == "0 */6 * * *"
    assert not Task.objects.filter(pk=created.id).exists()

    # That task is gone now: the run is started on the other one.
    run(parts["Execute manually"].replace(EXAMPLE_TASK_ID, str(older.id)), namespace)
    execution = Execution.objects.get(pk=namespace["execution_id"])
    assert execution.task_id == older.id
    assert execution.status == "pending"

    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["Condition met: True", f"Answer: {preview.answer}"]
    assert printed[2:] == ["iPhone Release Monitor: active", "An older task: active"]


def test_the_error_handling_example_reports_the_bad_cron(server_url, owner_key, capsys, namespace):
    code = with_server(ERROR_HANDLING_EXAMPLE, owner_key, server_url)

    run(code, namespace)

    printed = capsys.readouterr().out
    assert printed.startswith("Validation failed: [")
    assert (
        "{'loc': ['body', 'schedule'], 'msg': 'Invalid cron expression', 'type': 'value_error'}"
        in printed
    )
    assert not Task.objects.exists()
