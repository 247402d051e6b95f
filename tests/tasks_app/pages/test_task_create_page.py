import pytest
from django.test import Client

from executions_app.models import Execution, ExecutionTrigger
from tasks_app.cron import INVALID_TIMEZONE
from tasks_app.evaluation import task_suggest
from tasks_app.forms import TaskCreateForm
from tasks_app.models import Task
from tasks_app.serializers import TaskCreateInputSerializer
from tests.conftest import NO_PROVIDER

pytestmark = pytest.mark.django_db

URL = "/tasks/new"
VALID = {
    "name": "iPhone release",
    "search_query": "When is the next iPhone being released?",
    "condition_description": "Apple has officially announced a specific release date",
    "schedule": "0 9 * * *",
    "timezone": "Europe/Paris",
    "notify_behavior": "always",
}
PROMPT = "Notify me when the PS5 Pro is in stock at Best Buy"


def test_it_needs_a_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login?next=/tasks/new"


def test_it_asks_what_to_watch_and_starts_in_the_users_time_zone(owner_client, owner):
    owner.timezone = "Asia/Tokyo"
    owner.save()

    response = owner_client.get(URL)

    assert "What should Torale watch for you?" in response.text
    assert '<option value="Asia/Tokyo" selected>' in response.text
    assert response.context["form"]["notify_behavior"].value() == "once"


def test_saving_creates_the_task_and_opens_its_page(owner_client, owner):
    response = owner_client.post(URL, {**VALID, "action": "save"})

    task = Task.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.id}"
    assert task.name == "iPhone release"
    assert task.search_query == VALID["search_query"]
    assert task.schedule == "0 9 * * *"
    assert task.timezone == "Europe/Paris"
    assert task.notify_behavior == "always"
    assert task.state == "active"
    assert task.next_run_at is not None
    assert "created" in owner_client.get(response["Location"]).text


def test_without_a_name_it_makes_one_from_the_query(owner_client, owner):
    owner_client.post(URL, {**VALID, "name": ""})

    assert Task.objects.get(owner=owner).name == "When is the next iPhone being released"


def test_run_immediately_queues_a_first_run(owner_client, owner):
    owner_client.post(URL, {**VALID, "run_immediately": "on"})

    execution = Execution.objects.get(task__owner=owner)
    assert execution.trigger == ExecutionTrigger.IMMEDIATE
    assert execution.status == "pending"


def test_the_schedule_is_stored_normalized(owner_client, owner):
    owner_client.post(URL, {**VALID, "schedule": "  0   9 * *  mon-fri "})

    assert Task.objects.get(owner=owner).schedule == "0 9 * * mon-fri"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("search_query", "too short", "at least 10 characters"),
        ("search_query", "q" * 501, "at most 500 characters"),
        ("condition_description", "", "This field is required."),
        ("condition_description", "c" * 501, "at most 500 characters"),
        ("name", "n" * 201, "at most 200 characters"),
        ("schedule", "every day at nine", "Invalid cron expression"),
        ("schedule", "0 9 * * * *", "Invalid cron expression"),
        ("schedule", "0 9 30 2 *", "Invalid cron expression"),
        ("schedule", "H 9 * * *", "Invalid cron expression"),
        ("timezone", "Mars/Olympus_Mons", INVALID_TIMEZONE),
    ],
)
def test_it_shows_the_apis_validation_errors_inline_and_saves_nothing(
    owner_client, field, value, message
):
    response = owner_client.post(URL, {**VALID, field: value})

    assert response.status_code == 200
    assert not Task.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    assert 'aria-invalid="true"' in response.text
    assert f'id="id_{field}_error"' in response.text


# The form and the API serializer must agree on every input: the same limits, the same
# cron parser, the same zones. (An empty name is the one input they read differently: in a
# form it means "none given", and a name is then made from the query, as when the API
# request leaves `name` out.)
PARITY_CASES = [
    {},
    {"name": "n" * 200},
    {"name": "n" * 201},
    {"search_query": "q" * 10},
    {"search_query": "q" * 9},
    {"search_query": "q" * 500},
    {"search_query": "q" * 501},
    {"search_query": "   padded but long enough   "},
    {"condition_description": "c" * 9},
    {"schedule": "*/5 * * * *"},
    {"schedule": "0 9 * * 1-5"},
    {"schedule": "0 9 1 * mon"},
    {"schedule": "0 9 30 2 *"},
    {"schedule": "R 9 * * *"},
    {"schedule": "0 9 * *"},
    {"schedule": "61 9 * * *"},
    {"schedule": "@daily"},
    {"schedule": " ".join(["1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20"] * 5)},
    {"schedule": ""},
    {"timezone": "UTC"},
    {"timezone": "America/New_York"},
    {"timezone": "america/new_york"},
    {"timezone": "EST5EDT"},
    {"timezone": "Nowhere/Land"},
    {"notify_behavior": "always"},
    {"notify_behavior": "never"},
]


@pytest.mark.parametrize("change", PARITY_CASES)
def test_the_form_accepts_exactly_what_the_api_accepts(change):
    data = {**VALID, **change}

    form = TaskCreateForm(data)
    serializer = TaskCreateInputSerializer(data=data)

    assert form.is_valid() == serializer.is_valid(), (form.errors, serializer.errors)
    if form.is_valid():
        for field in ("search_query", "condition_description", "schedule", "timezone"):
            assert form.cleaned_data[field] == serializer.validated_data[field]


# --- Suggest and preview without JavaScript (a form post) ---------------------------------------


def test_suggest_fills_in_the_form(owner_client, owner, gemini):
    owner.timezone = "Europe/Berlin"
    owner.save()
    expected = task_suggest(user=owner, prompt=PROMPT)

    response = owner_client.post(URL, {"action": "suggest", "prompt": PROMPT})

    assert response.status_code == 200
    assert "Suggestion filled in below" in response.text
    form = response.context["form"]
    for field in ("name", "search_query", "condition_description", "schedule"):
        assert form.initial[field] == expected[field]
        assert form[field].value() == expected[field]
    assert form["timezone"].value() == "Europe/Berlin"
    assert not Task.objects.exists()


def test_suggest_without_a_provider_says_why(owner_client, no_search_provider):
    response = owner_client.post(URL, {"action": "suggest", "prompt": PROMPT})

    assert response.status_code == 200
    assert f"Suggest failed: {NO_PROVIDER['detail']}" in response.text


def test_suggest_needs_a_description(owner_client, gemini):
    response = owner_client.post(URL, {"action": "suggest", "prompt": ""})

    assert "This field is required." in response.text
    assert gemini.requests == []


def test_preview_shows_answer_reasoning_and_sources_and_saves_nothing(owner_client, gemini):
    response = owner_client.post(URL, {**VALID, "action": "preview"})

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview["answer"]
    assert preview["answer"][:40] in response.text
    assert "Condition met" in response.text or "Not met" in response.text
    for source in preview["grounding_sources"]:
        assert f'href="{source["uri"]}"' in response.text
    assert not Task.objects.exists()
    # What was typed stays in the form.
    assert response.context["form"]["search_query"].value() == VALID["search_query"]


def test_preview_escapes_model_output_and_links_only_web_sources(owner_client, gemini):
    gemini.script(
        {
            "text": "Search results",
            "grounding_chunks": [
                {"uri": "javascript:alert(1)", "title": "<b>Sneaky</b>"},
                {"uri": "https://www.bestbuy.com/ps5", "title": "Best Buy"},
            ],
        },
        {
            "json": {
                "condition_met": True,
                "answer": "<script>alert(1)</script>",
                "reasoning": '<img src=x onerror="alert(2)">',
            }
        },
    )

    response = owner_client.post(URL, {**VALID, "action": "preview"})

    text = response.text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert "<b>Sneaky</b>" not in text
    assert 'href="javascript:' not in text
    assert "not a web link: javascript:alert(1)" in text
    assert 'href="https://www.bestbuy.com/ps5"' in text


def test_preview_of_a_too_short_query_asks_for_more_and_calls_nobody(owner_client, gemini):
    response = owner_client.post(
        URL, {**VALID, "search_query": "short", "schedule": "", "action": "preview"}
    )

    assert "Preview failed: Fill in the search query and the condition" in response.text
    form = response.context["form"]
    # Only the fields a preview needs are complained about.
    assert list(form.errors) == ["search_query"]
    assert gemini.requests == []


def test_preview_failure_is_explained(owner_client, gemini):
    gemini.script({"status": 403, "message": "API key not valid"})

    response = owner_client.post(URL, {**VALID, "action": "preview"})

    assert response.status_code == 200
    assert "Preview failed:" in response.text
    assert not Task.objects.exists()


# --- The page's JavaScript calls the JSON API with the session and the CSRF token ---------------


def _csrf_client(user) -> tuple[Client, str]:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(URL)
    token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    return browser, token


def test_the_page_can_preview_through_the_api_with_its_csrf_token(owner, gemini):
    browser, token = _csrf_client(owner)

    response = browser.post(
        "/api/v1/tasks/preview",
        {
            "search_query": VALID["search_query"],
            "condition_description": VALID["condition_description"],
        },
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 200
    assert set(response.json()) == {"condition_met", "answer", "reasoning", "grounding_sources"}


def test_the_api_refuses_a_session_call_without_the_csrf_token(owner, gemini):
    browser, _ = _csrf_client(owner)

    response = browser.post(
        "/api/v1/tasks/suggest", {"prompt": PROMPT}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")
    assert gemini.requests == []


def test_saving_needs_the_csrf_token(owner):
    browser, _ = _csrf_client(owner)

    response = browser.post(URL, VALID)

    assert response.status_code == 403
    assert "That form has expired" in response.text
    assert not Task.objects.exists()
