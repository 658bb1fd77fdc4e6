"""The Chromium of the browser tests, shared by every test module that drives it.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium fonts-noto-cjk`);
Playwright's own browser downloads are not used. One browser serves the whole session: Playwright's
sync API cannot start a second one while the first runs.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import sync_playwright

# Playwright's sync API runs an asyncio event loop in the test thread for as long as the browser
# lives, and Django refuses ORM calls from a thread with a running loop. The calls made here
# (fixtures, flushes, the tests after these) are plain synchronous ones, so the guard is lifted.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = 1280


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}. Install it with "
            "`apt-get install -y chromium fonts-noto-cjk` (as root), then run the tests again.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        # Between its calls, Playwright's sync API leaves its event loop set as the running loop
        # of the test thread, and Django then keeps that thread's database connections apart
        # from the ones it had before (asgiref's Local, in async code). Those are closed here,
        # while that is still so: the last one would otherwise outlive the session, and the test
        # database could not be dropped ("being accessed by other users").
        connections.close_all()


@pytest.fixture
def site(transactional_db, live_server):
    """The live server's address, with the seed in its database."""
    call_command("loaddata", "seed", verbosity=0)
    return live_server.url


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": DESKTOP, "height": 900})
    # Every page is local and small: a step that takes longer has failed.
    context.set_default_timeout(5000)
    yield context
    context.close()
