"""Browser tests: real headless Chromium (Debian's package, driven by Playwright's sync API)
against pytest-django's live server, on committed data (transactional database).

Every page a test opens goes through `page`, which fails the test on a JavaScript error, a
console error or a 5xx answer; `screenshot(page, "name")` saves it into TORALE_SCREENSHOT_DIR
(default var/test/screenshots) so that people can look at what the walks saw.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.processes import Proc, process_env, start_worker
from tests.support.receivers import SmtpReceiver

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TORALE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = (
    f"The browser tests need Chromium at {CHROMIUM}. Install it with "
    "`sudo apt-get install -y chromium` (Debian/Ubuntu), or point TORALE_CHROMIUM at a "
    "Chromium or Chrome binary. Playwright's own browser download is not used."
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


# Per module, not per session: while Playwright runs, its event loop occupies this thread,
# and the tests after the browser tests (asyncio.run in the SDK's, the ORM's async guard)
# must find the thread as it was.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # In CI a missing browser is a failure; on a laptop the tests say how to install it.
    if not os.access(CHROMIUM, os.X_OK):
        if _ci():
            pytest.fail(INSTALL_HINT, pytrace=False)
        pytest.skip(f"{INSTALL_HINT} (Skipped here; with CI=true this is a failure.)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM would take the
    # tests' own queries for async code without this.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's URL, served as `scripts/run` serves a laptop: plain http, so the
    session and CSRF cookies are not Secure-only."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.TORALE_BASE_URL = live_server.url
    return live_server.url


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as server:
        yield server


@pytest.fixture
def worker(gemini, smtp, site, settings, tmp_path) -> Iterator[Proc]:
    """A real Celery worker on the test database and Redis, searching through the Gemini
    stand-in and sending email to the local SMTP server."""
    env = process_env(
        # The account email's target is encrypted under a key derived from SECRET_KEY.
        SECRET_KEY=settings.SECRET_KEY,
        TORALE_BASE_URL=site,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp.host,
        EMAIL_PORT=str(smtp.port),
        EMAIL_USE_TLS="false",
        EMAIL_USE_SSL="false",
        EMAIL_TIMEOUT="5",
        DEFAULT_FROM_EMAIL="Torale <alerts@torale.example>",
    )
    proc = start_worker("browser-worker", env, tmp_path)
    yield proc
    proc.stop()


@dataclass
class PageProblems:
    """What went wrong in the browser while a test ran; the test fails on any of them,
    except those it said it expects (`expect`)."""

    problems: list[str] = field(default_factory=list)
    expected: list[re.Pattern] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(e.search(p) for e in self.expected)]


def _watch(page: Page, problems: PageProblems) -> None:
    page.on(
        "console",
        lambda msg: (
            problems.add(f"console {msg.type} at {page.url}: {msg.text} ({msg.location['url']})")
            if msg.type in ("error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.add(f"JavaScript error at {page.url}: {error}"))
    page.on(
        "response",
        lambda response: (
            problems.add(f"HTTP {response.status} from {response.request.method} {response.url}")
            if response.status >= 500
            else None
        ),
    )


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def new_page(browser, site, page_problems) -> Iterator:
    """new_page(phone=False, storage_state=None): a page in a fresh browser context (a 390 px
    wide one for a phone; storage_state carries another context's session), watched for
    errors. Every context opened here is closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(phone: bool = False, storage_state: dict | None = None) -> Page:
        context = browser.new_context(
            base_url=site, viewport=PHONE if phone else DESKTOP, storage_state=storage_state
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        _watch(page, page_problems)
        return page

    yield open_page
    for context in contexts:
        context.close()
    unexpected = page_problems.unexpected()
    if unexpected:
        pytest.fail("The browser saw problems:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def page(new_page) -> Page:
    """A desktop-sized page of a fresh browser (no cookies)."""
    return new_page()


def screenshot_dir() -> Path:
    path = Path(os.environ.get("TORALE_SCREENSHOT_DIR") or ROOT / "var/test/screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(request):
    """screenshot(page, "name"): the whole page as <dir>/<test file>-<nn>-<name>.png
    (full_page=False: only what the window shows, as a phone shows it on arrival)."""
    prefix = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    count = iter(range(1, 100))
    directory = screenshot_dir()

    def take(page: Page, name: str, full_page: bool = True) -> Path:
        path = directory / f"{prefix}-{next(count):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def log_in():
    """log_in(page, username): through the login page, as a person would (the factories'
    password)."""

    def submit(page: Page, username: str, password: str = "pw-for-tests-1") -> None:
        page.goto("/accounts/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/$"))

    return submit
