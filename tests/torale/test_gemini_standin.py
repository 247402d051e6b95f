"""The Gemini stand-in itself: its default verdicts (the smoke run relies on them) and its use
as a separate process scripted over HTTP (as worker and beat processes use it)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from torale.errors import ProviderUnavailable
from torale.gemini import reset_client
from torale.search import get_search_provider

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_TASKS = [
    (
        "When is the next iPhone being released?",
        "Apple has officially announced a specific release date",
        True,
    ),
    ("PS5 Pro in stock Best Buy", "PS5 Pro is available for purchase at Best Buy", False),
    ("PS5 availability Best Buy", "PS5 Pro is in stock at Best Buy", False),
    ("apartments for sale london e2 0fq", "Price below 450000 GBP", True),
    ("apartments for sale london e2 0fq", "An apartment is listed under 450,000 GBP", True),
]


@pytest.mark.parametrize(("query", "condition", "met"), REFERENCE_TASKS)
def test_its_default_verdicts_follow_the_documented_rule(gemini, query, condition, met):
    evaluation = get_search_provider().evaluate(
        search_query=query, condition_description=condition, today=date(2026, 3, 14)
    )

    assert evaluation.condition_met is met
    assert len(evaluation.grounding_sources) == 2
    assert evaluation.answer and evaluation.reasoning


def _call(url: str, body=None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local URL
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def standin_process():
    """`python -m tests.support.gemini_standin --port 0`, as the smoke run starts it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.gemini_standin", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Gemini stand-in listening on http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_as_a_process_it_is_scripted_over_http(standin_process, settings):
    url = standin_process
    settings.GEMINI_API_KEY = "key-of-the-process-test"
    settings.GEMINI_BASE_URL = url
    reset_client()

    assert _call(f"{url}/_standin/script", [{"status": 503}]) == (200, {"queued": 1})
    with pytest.raises(ProviderUnavailable):
        get_search_provider().evaluate(
            search_query="When is the next iPhone being released?",
            condition_description="Apple has officially announced a specific release date",
        )
    evaluation = get_search_provider().evaluate(
        search_query="When is the next iPhone being released?",
        condition_description="Apple has officially announced a specific release date",
    )

    assert evaluation.condition_met is True
    status, received = _call(f"{url}/_standin/requests")
    assert status == 200
    assert [r["status"] for r in received] == [503, 200, 200]
    assert {r["headers"]["x-goog-api-key"] for r in received} == {"<redacted>"}
    assert "key-of-the-process-test" not in json.dumps(received)
    assert _call(f"{url}/_standin/reset", {}) == (200, {"ok": True})
    assert _call(f"{url}/_standin/requests") == (200, [])
    reset_client()


def test_it_refuses_a_script_that_is_not_a_list_of_objects(gemini):
    status, body = _call(f"{gemini.url}/_standin/script", ["503"])

    assert status == 400
    assert body == {"detail": "send a JSON list of reply objects"}


def test_it_answers_unknown_paths_in_googles_error_shape(gemini):
    status, body = _call(f"{gemini.url}/v1/models/x:countTokens", {})

    assert status == 404
    assert body["error"]["status"] == "NOT_FOUND"
