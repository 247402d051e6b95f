"""Test data: users, API keys and tasks made the way the product makes them."""

from __future__ import annotations

import itertools

from tasks_app.models import Task
from tasks_app.services import task_create
from torale.models import User
from torale.services import api_key_create

_seq = itertools.count(1)

VALID_TASK = {
    "search_query": "When is the next iPhone being released?",
    "condition_description": "Apple has officially announced a specific release date",
    "schedule": "0 9 * * *",
}


def make_user(username: str | None = None, **extra) -> User:
    username = username or f"user{next(_seq)}"
    return User.objects.create_user(
        username=username, email=f"{username}@example.com", password="pw-for-tests-1", **extra
    )


def make_api_key(user: User, name: str = "tests") -> str:
    """The raw key (sk_...) of a new key for `user`."""
    _, raw = api_key_create(user=user, name=name)
    return raw


def make_task(owner: User, **overrides) -> Task:
    data = {**VALID_TASK, **overrides}
    return task_create(owner=owner, **data)
