"""Shared Playwright fixtures for the browser journeys (headless Debian Chromium).

Every test in this folder is marked `browser` (run with `pytest -m browser tests/browser`).
The live server is pytest-django's `live_server`: it serves static files from the finders
through StaticFilesHandler, so the vendored Leaflet/HTMX load without collectstatic.
"""

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures and
# call_command() are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
VIEWPORTS = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def django_db_modify_db_settings():
    """SQLite test database in a file, not in memory: with an in-memory database Django's
    live server shares one connection between its request threads, and a page that fires
    several requests at once (the grid map) made them collide ("cannot start a transaction
    within a transaction"). A file gives each thread its own connection, as in production."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        name = Path(tempfile.gettempdir()) / f"civicgrid_browser_{os.getpid()}.sqlite3"
        db.setdefault("TEST", {})["NAME"] = str(name)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian Chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings) -> None:
    """The live server speaks plain HTTP; production's Secure cookies would never be sent."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


class PageLog:
    """Console errors, failed requests and requests that left the live server (no CDN)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.errors: list[str] = []
        self.external: list[str] = []

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        page.on("response", self._on_response)
        page.on("request", self._on_request)

    def _on_console(self, message) -> None:
        # A bad response is reported by _on_response with its URL; the console line has none.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _on_response(self, response) -> None:
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def _on_request(self, request) -> None:
        if not request.url.startswith((self.base_url, "data:", "about:")):
            self.external.append(request.url)


@pytest.fixture
def page_log(live_server) -> PageLog:
    return PageLog(live_server.url)


@pytest.fixture
def new_page(browser, page_log) -> Iterator[Callable]:
    """`new_page("desktop" | "phone")`: a page in its own browser context (own cookies)."""
    contexts = []

    def make(viewport: str = "desktop"):
        phone = viewport == "phone"
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            locale="zh-CN",
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page_log.attach(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page("desktop")


@pytest.fixture
def login() -> Callable:
    """`login(page, live_server, username)`: sign in through the real login page."""
    from civicgrid.accounts.management.commands.demo_accounts import DEMO_PASSWORD

    def do_login(page, live_server, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        with page.expect_navigation():
            page.click("button[type=submit]")
        # The landing page (the grid map) fetches its GeoJSON after load; let those requests
        # finish so a test that navigates on at once does not cut them off mid-flight.
        page.wait_for_load_state("networkidle")

    return do_login


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    """`screenshot(page, name)` → screenshots/<name>.png (git-ignored), for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
