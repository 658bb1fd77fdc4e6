"""The public site in Chromium, driven by Playwright and checked with axe-core.

Needs Debian's Chromium at /usr/bin/chromium (`apt-get install -y chromium fonts-noto-cjk`);
Playwright's own browser downloads are not used. Screenshots go to test-artifacts/screenshots/.
"""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import expect

from tests.browser import DESKTOP

pytestmark = pytest.mark.browser

SCREENSHOTS = settings.BASE_DIR / "test-artifacts" / "screenshots"
PHONE, NARROWEST = 360, 320

# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

VISA_FREE = "visa-free-travel-brazil-argentina-peru-chile-uruguay"
ARTICLE = "wang-huiyao-china-and-latin-america-partners-in-a-shared-new-era"

# One address of each kind of page, without its language prefix.
PAGE_TYPES = {
    "home": "",
    "commitment-list": "commitments/",
    "commitment-list-invalid-filter": "commitments/?year=soon&country=XX",
    "commitment-detail": f"commitments/{VISA_FREE}/",
    "article-list": "articles/",
    "article-detail": f"articles/{ARTICLE}/",
    "focus-area-list": "focus-areas/",
    "focus-area-detail": "focus-areas/infrastructure-and-connectivity/",
    "country-list": "countries/",
    "country-detail": "countries/brazil/",
    "search-results": "search/?q=Chancay",
    "search-empty": "search/",
    "not-found": "no-such-page/",
}


@pytest.fixture
def page(context):
    return context.new_page()


def axe_report(page):
    """axe-core's readable report of the page's violations, or "" when there are none.

    Closed <details> are opened for the check, so that the tables in them are checked too.
    """
    page.evaluate(
        """() => document.querySelectorAll("details:not([open])").forEach((details) => {
            details.open = true;
            details.dataset.openedForAxe = "";
        })"""
    )
    results = Axe().run(page, options=AXE_OPTIONS)
    page.evaluate(
        """() => document.querySelectorAll("[data-opened-for-axe]").forEach((details) => {
            details.open = false;
            delete details.dataset.openedForAxe;
        })"""
    )
    return results.generate_report() if results.violations_count else ""


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def scrolls_sideways(page):
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_visitor_walks_from_home_to_a_source_and_searches_in_spanish(site, page):
    page.goto(f"{site}/en/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Commitments").click()
    expect(page).to_have_url(f"{site}/en/commitments/")

    page.get_by_label("Country:", exact=True).select_option(label="Brazil")
    page.get_by_label("Status:", exact=True).select_option(label="Kept")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"country=BR.*status=kept"))
    results = page.locator(".results")
    expect(results.get_by_role("heading", level=2)).to_have_text("1 commitment")
    expect(results.locator(".card__title a")).to_have_count(1)
    results.get_by_role("link", name=re.compile("^Visa-free travel")).click()
    expect(page).to_have_url(f"{site}/en/commitments/{VISA_FREE}/")

    quotes = page.get_by_role("region", name="In the words of the sources")
    quoted = quotes.locator("blockquote").first.inner_text()
    quotes.get_by_role("link", name="Read in context").first.click()
    expect(page).to_have_url(re.compile(rf"/en/articles/{ARTICLE}/#quote-\d+$"))
    target = page.locator("mark:target, mark:has(> :target)")
    expect(target).to_have_count(1)
    expect(target).to_be_in_viewport()
    expect(target).to_have_text(quoted.strip())
    title = page.get_by_role("heading", level=1).inner_text()

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(page).to_have_url(f"{site}/es/articles/{ARTICLE}/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    principal = page.get_by_role("navigation", name="Principal")
    expect(principal.get_by_role("link", name="Compromisos")).to_be_visible()

    page.get_by_role("searchbox", name="Buscar en el sitio").fill("Chancay")
    page.get_by_role("searchbox", name="Buscar en el sitio").press("Enter")
    expect(page).to_have_url(f"{site}/es/search/?q=Chancay")
    expect(page.locator(".search-result mark").first).to_have_text("Chancay")


def test_skip_link_is_the_first_stop_and_moves_focus_to_main(site, page):
    page.goto(f"{site}/en/commitments/")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab goes on from the main content, not from the top of the page.
    page.keyboard.press("Tab")
    expect(page.get_by_label("Focus area:", exact=True)).to_be_focused()


FOCUSED_STYLE = """() => {
    const element = document.activeElement;
    if (element === document.body) return null;
    const style = getComputedStyle(element);
    return {
        element: element.outerHTML.slice(0, 100),
        outlineStyle: style.outlineStyle,
        outlineWidth: style.outlineWidth,
        boxShadow: style.boxShadow,
    };
}"""


@pytest.mark.parametrize("path", ["", "commitments/", f"articles/{ARTICLE}/"])
def test_every_keyboard_stop_shows_a_visible_focus_indicator(site, page, path):
    page.goto(f"{site}/en/{path}")
    stops = []
    # Past the last stop, focus leaves the document for the browser's own controls.
    for _press in range(300):
        page.keyboard.press("Tab")
        if (focused := page.evaluate(FOCUSED_STYLE)) is None:
            break
        stops.append(focused)
    else:
        pytest.fail("Tab never leaves the page")
    invisible = [
        stop
        for stop in stops
        if (stop["outlineStyle"] == "none" or stop["outlineWidth"] == "0px")
        and stop["boxShadow"] == "none"
    ]
    assert len(stops) > 10
    assert not invisible, f"No visible focus indicator on: {invisible}"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_page_type_has_no_axe_violations_at_phone_and_desktop_widths(
    site, page, page_type, language
):
    response = page.goto(f"{site}/{language}/{PAGE_TYPES[page_type]}")
    assert response.status == (404 if page_type == "not-found" else 200)
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        report = axe_report(page)
        assert not report, f"{page.url} at {width} px:\n{report}"
        screenshot(page, f"{page_type}-{language}-{width}")


def test_no_page_type_scrolls_sideways_at_320_px(site, page):
    page.set_viewport_size({"width": NARROWEST, "height": 640})
    wide = []
    for language in ("en", "zh-hans"):
        for path in PAGE_TYPES.values():
            page.goto(f"{site}/{language}/{path}")
            if scrolls_sideways(page):
                wide.append(page.url)
    assert not wide, f"Pages wider than {NARROWEST} px: {wide}"


def test_filters_and_search_work_without_javascript(site, browser):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(5000)
    page = context.new_page()
    try:
        page.goto(f"{site}/en/commitments/")
        page.get_by_label("Status:", exact=True).select_option(label="Kept")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"status=kept"))
        expect(page.locator(".results h2")).to_have_text("1 commitment")

        page.get_by_role("searchbox", name="Search the tracker").fill("Chancay")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page).to_have_url(f"{site}/en/search/?q=Chancay")
        expect(page.locator(".search-result mark").first).to_have_text("Chancay")
    finally:
        context.close()
