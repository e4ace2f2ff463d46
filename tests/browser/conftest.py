"""Browser tests: Playwright driving Debian's Chromium against Django's live server.

- The browser is the system Chromium (/usr/bin/chromium, or CHROMIUM_PATH), not a
  browser downloaded by Playwright: the same binary CI installs with apt.
- Without Chromium the whole folder is skipped with the reason below, except under
  CI (CI=true), where a missing Chromium fails every browser test instead.
- Every page records its console: a JavaScript error, a failed resource load or a
  Content Security Policy violation fails the test (see `console`).
- Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would then refuse
# ORM calls from the test body (SynchronousOnlyOperation) although they are safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}
PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_installed() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


SKIP_REASON = (
    f"Browser tests skipped: no Chromium at {CHROMIUM}. Install Debian's chromium "
    "(apt-get install chromium) or set CHROMIUM_PATH. They never skip under CI=true."
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if not chromium_installed() and not IN_CI:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not chromium_installed():
        # Only reachable under CI (elsewhere the tests are skipped at collection).
        pytest.fail(f"CI=true but Chromium is missing at {CHROMIUM}: install it, do not skip.")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str, playwright):
    """One Chromium for the session (pytest-playwright's `playwright` fixture starts the driver)."""
    browser = playwright.chromium.launch(
        executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@dataclass
class Console:
    """Everything the page said on its console, and the uncaught errors."""

    messages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        # Report which element broke the policy (DevTools-injected, so CSP does not apply).
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', (e) => console.error("
            "'CSP violation: ' + e.violatedDirective + ' by ' + (e.target && e.target.outerHTML"
            " ? e.target.outerHTML.slice(0, 160) : String(e.target)) + ' sample=' + e.sample));"
        )
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message) -> None:
        where = message.location.get("url", "") if message.location else ""
        on = message.page.url if message.page else ""
        text = f"{message.type}: {message.text} [{where} on {on}]"
        self.messages.append(text)
        if message.type == "error" or "Content Security Policy" in message.text:
            self.errors.append(text)

    @property
    def csp_violations(self) -> list[str]:
        return [m for m in self.messages if "Content Security Policy" in m]

    def assert_clean(self) -> None:
        assert not self.errors, "Console errors or CSP violations:\n" + "\n".join(self.errors)


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def context(browser, console) -> Iterator:
    """A fresh context with the Content Security Policy enforced."""
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context, console) -> Iterator:
    page = context.new_page()
    console.attach(page)
    yield page
    # A test that finishes cleanly must not have logged errors on the way.
    console.assert_clean()


@pytest.fixture
def axe_context(browser) -> Iterator:
    """For the axe-core scan only: injecting axe.min.js is an inline script, which our
    CSP rightly blocks, so this context bypasses CSP. Every other test enforces it."""
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    # caret="initial": hiding the caret (the default) leaves style="" on every input,
    # which htmx later copies on swap and the CSP then reports as an inline style.
    page.screenshot(path=str(path), full_page=True, caret="initial", animations="disabled")
    return path


def sign_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))


# --- a small world for the page tests ------------------------------------------------------


@dataclass
class World:
    owner: object
    people_ops: object
    empty_manager: object
    hire: object
    other_hire: object
    plan: object
    extra: dict = field(default_factory=dict)


@pytest.fixture
def world(transactional_db, shipped_catalog) -> World:
    """Hires in several states, a plan from a shipped template, history and a certification."""
    from django.utils import timezone

    from onboarding import services
    from onboarding.models import Certification, PlanTemplate, RoleProfile

    from ..factories import (
        HeldCertificationFactory,
        ManagerFactory,
        NewHireFactory,
        PeopleOpsFactory,
    )

    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    owner = ManagerFactory(username="olive", first_name="Olive", last_name="Owner")
    outsider = ManagerFactory(username="oscar", first_name="Oscar", last_name="Other")
    people_ops = PeopleOpsFactory(username="pat", first_name="Pat", last_name="Ops")
    empty_manager = ManagerFactory(username="emma", first_name="Emma", last_name="Empty")
    profiles = list(RoleProfile.objects.order_by("name"))
    experienced = PlanTemplate.objects.get(name="Experienced product manager")
    newcomer = PlanTemplate.objects.get(name="New to product management")

    hire = services.hire_create(
        actor=owner,
        full_name="Hana Hire",
        email="hana@example.com",
        hiring_manager=owner,
        start_date=today - 20 * day,
        role_profile=profiles[0],
        previous_role="Support engineer",
    )
    services.hire_update(actor=owner, hire=hire, title="Senior Product Manager")
    plan = services.plan_create(actor=owner, hire=hire, template=newcomer)
    first = plan.assignments.order_by("position").first()
    services.assignment_complete(actor=owner, assignment=first)
    HeldCertificationFactory(
        hire=hire,
        certification=Certification.objects.order_by("name").first(),
        earned_on=today - 300 * day,
        expires_on=today + 45 * day,
    )
    names = ["Ada Adams", "Ben Brooks", "Cleo Chen", "Dev Desai", "Eve Ellis"]
    for index, name in enumerate(names):
        other = NewHireFactory(
            hiring_manager=owner,
            full_name=name,
            role_profile=profiles[index % len(profiles)],
            start_date=today + (index * 9 - 15) * day,
        )
        if index % 2 == 0:
            services.plan_create(actor=owner, hire=other, template=experienced)
    # Some tuition for the chart: employer-paid and hire-paid courses in this plan.
    for assignment, paid_by in zip(
        plan.assignments.order_by("position")[1:3], ["employer", "hire"], strict=False
    ):
        services.assignment_update(
            actor=owner, assignment=assignment, tuition_cost=1450, paid_by=paid_by
        )
    other_hire = NewHireFactory(hiring_manager=outsider, full_name="Xena Elsewhere")
    services.plan_create(actor=outsider, hire=other_hire, template=experienced)
    return World(
        owner=owner,
        people_ops=people_ops,
        empty_manager=empty_manager,
        hire=hire,
        other_hire=other_hire,
        plan=plan,
    )


PageAction = Callable[[object], None]


@dataclass(frozen=True)
class PageCase:
    """One page to open: who signs in (None: nobody), its path, and an optional step."""

    name: str
    user: str | None  # attribute of World, e.g. "owner"
    path: Callable[[World], str]
    action: PageAction | None = None
