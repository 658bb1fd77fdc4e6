"""The Content-Security-Policy in Chromium: the public site, the admin and the API docs work
under it, and no page breaks a rule of it or throws a script error.

Uses the Chromium, the live server and the seed of tests/browser.py.
"""

import re

import pytest
import reversion
from playwright.sync_api import expect

from policy.models import Commitment, Country, Region
from policy.tiles import ROWS, positions
from tests.factories import CountryFactory
from tests.test_browser import PAGE_TYPES, VISA_FREE

pytestmark = pytest.mark.browser

# Runs in every page before its own scripts. Chromium also logs each violation to the console,
# but the event is the standard, and carries the directive.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => reportViolation(
    `${event.documentURI}: ${event.effectiveDirective} refused ${event.blockedURI || "inline"}` +
    ` (${event.sourceFile || "the page"}:${event.lineNumber}) ${event.sample}`
));
"""


@pytest.fixture
def problems():
    """What the policy refused and what scripts threw, on every page the test loads."""
    return []


@pytest.fixture
def page(context, problems):
    """A page watched for problems, as are the pop-ups it opens."""
    context.expose_function("reportViolation", lambda violation: problems.append(violation))
    context.add_init_script(REPORT_VIOLATIONS)
    context.on(
        "weberror", lambda web_error: problems.append(f"{web_error.page.url}: {web_error.error}")
    )
    return context.new_page()


def visit(page, url, status=200):
    response = page.goto(url)
    assert response.status == status, url
    # Swagger UI, ReDoc and select2 load more once the page is there.
    page.wait_for_load_state("networkidle")


@pytest.fixture
def admin_page(site, page, django_user_model):
    """The page, logged in to the admin through its login form as a superuser."""
    django_user_model.objects.create_superuser("root", password="correct horse battery")
    visit(page, f"{site}/admin/login/")
    page.get_by_label("Username:").fill("root")
    page.get_by_label("Password:").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{site}/admin/")
    return page


@pytest.fixture
def commitment(site):
    return Commitment.objects.get(slug=VISA_FREE)


def test_the_watch_sees_what_the_policy_refuses_and_what_scripts_throw(site, page, problems):
    visit(page, f"{site}/en/")
    page.evaluate(
        """() => {
            const style = document.createElement("style");
            style.textContent = "body { color: red }";
            document.head.append(style);
            setTimeout(() => { throw new Error("A script failed"); });
        }"""
    )
    # Both are dispatched as tasks of their own, and reported before the next.
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve))")
    assert len(problems) == 2
    assert problems[0].startswith(f"{site}/en/: style-src-elem refused inline")
    assert problems[1] == f"{site}/en/: A script failed"


def test_every_public_page_type_loads_without_a_violation(site, page, problems):
    for language in ("en", "zh-hans"):
        for name, path in PAGE_TYPES.items():
            visit(page, f"{site}/{language}/{path}", 404 if name == "not-found" else 200)
    assert not problems


def test_language_switcher_and_search_work_under_the_policy(site, page, problems):
    visit(page, f"{site}/en/commitments/{VISA_FREE}/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(page).to_have_url(f"{site}/es/commitments/{VISA_FREE}/")

    page.get_by_role("searchbox", name="Buscar en el sitio").fill("Chancay")
    page.get_by_role("searchbox", name="Buscar en el sitio").press("Enter")
    expect(page).to_have_url(f"{site}/es/search/?q=Chancay")
    expect(page.locator(".search-result mark").first).to_have_text("Chancay")
    assert not problems


def test_country_tiles_sit_in_their_rows_and_columns_without_style_attributes(site, page, problems):
    # Countries the layout does not know go in the rows below the map.
    CountryFactory(iso_code="GF", name="French Guiana", region=Region.SOUTH_AMERICA)
    CountryFactory(iso_code="PR", name="Puerto Rico", region=Region.CARIBBEAN)
    visit(page, f"{site}/en/countries/")

    assert page.locator(".tile-map [style]").count() == 0
    boxes = {
        tile.inner_text(): tile.bounding_box() for tile in page.locator(".tile-map__tile a").all()
    }
    tops = sorted({box["y"] for box in boxes.values()})
    lefts = sorted({box["x"] for box in boxes.values()})
    placed = {
        code: (tops.index(box["y"]) + 1, lefts.index(box["x"]) + 1) for code, box in boxes.items()
    }
    layout = positions(Country.objects.in_latin_america_and_caribbean())
    assert placed == {country.iso_code: (row, column) for country, row, column in layout}
    assert placed["GF"] == (ROWS + 1, 1)
    assert placed["PR"] == (ROWS + 1, 2)
    assert not problems


def test_admin_changelist_filters_select_all_and_actions_work(site, admin_page, problems):
    page = admin_page
    visit(page, f"{site}/admin/policy/commitment/")
    by_status = page.locator("#changelist-filter details[data-filter-title='publication status']")
    by_status.get_by_role("link", name="Published").click()
    expect(page).to_have_url(re.compile(r"\?publication_status__exact=published$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows.first).to_be_visible()
    count = rows.count()

    page.locator("#action-toggle").check()
    expect(page.locator(".action-select:checked")).to_have_count(count)
    expect(page.locator(".action-counter")).to_have_text(f"{count} of {count} selected")

    page.get_by_label("Action:").select_option(label="Archive the selected records")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text(f"{count} commitments archived.")

    visit(page, f"{site}/admin/policy/article/")
    page.locator(".toplinks a").first.click()
    expect(page).to_have_url(re.compile(r"publication_date__year="))
    assert not problems


def test_admin_change_form_autocomplete_inlines_and_date_widgets_work(
    site, admin_page, commitment, problems
):
    page = admin_page
    visit(page, f"{site}/admin/policy/commitment/{commitment.pk}/change/")

    page.locator(".field-focus_areas .select2-selection").click()
    expect(page.locator(".select2-results__option").first).to_be_visible()
    page.keyboard.press("Escape")

    quotes = page.locator(".dynamic-quotes")
    before = quotes.count()
    page.locator("#quotes-group .add-row a").click()
    expect(quotes).to_have_count(before + 1)

    page.locator("#id_publish_at_0 + .datetimeshortcuts a", has_text="Today").click()
    expect(page.locator("#id_publish_at_0")).not_to_have_value("")
    page.locator(".field-period_start .datetimeshortcuts .date-icon").click()
    expect(page.locator(".calendarbox:visible")).to_have_count(1)
    assert not problems


def test_admin_change_form_saves_a_change_and_says_so_once(site, admin_page, commitment, problems):
    page = admin_page
    visit(page, f"{site}/admin/policy/commitment/{commitment.pk}/change/")
    page.locator("#id_description").fill("Checked in the browser.")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    expect(page.locator("#id_description")).to_have_value("Checked in the browser.")
    page.reload()
    expect(page.locator(".messagelist")).to_have_count(0)
    assert not problems


def test_admin_add_another_popup_hands_the_new_record_back(site, admin_page, commitment, problems):
    page = admin_page
    visit(page, f"{site}/admin/policy/commitment/{commitment.pk}/change/")
    with page.expect_popup() as opened:
        page.locator("#add_id_countries").click()
    popup = opened.value
    popup.get_by_label("Name:").press_sequentially("Aruba")
    popup.get_by_label("ISO code:").fill("AW")
    popup.get_by_label("Region:").select_option(label="Caribbean")
    with popup.expect_event("close"):
        popup.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#id_countries option:checked", has_text="Aruba")).to_have_count(1)
    assert not problems


def test_admin_add_form_fills_the_slug_from_the_title(site, admin_page, problems):
    page = admin_page
    visit(page, f"{site}/admin/policy/commitment/add/")
    page.get_by_label("Title:").press_sequentially("A new port in Chancay")
    expect(page.get_by_label("Slug:")).to_have_value("a-new-port-in-chancay")
    assert not problems


def test_admin_history_compares_two_versions(site, admin_page, commitment, problems):
    page = admin_page
    for title in ("Visa-free travel, first draft", "Visa-free travel, second draft"):
        with reversion.create_revision():
            commitment.title = title
            commitment.save()
    visit(page, f"{site}/admin/policy/commitment/{commitment.pk}/history/")
    page.get_by_role("button", name="compare").click()
    expect(page).to_have_url(re.compile(r"/history/compare/\?"))
    expect(page.locator("ins").first).to_be_visible()
    assert not problems


def test_admin_import_guesses_the_format_and_export_toggles_the_fields(
    site, admin_page, problems, tmp_path
):
    page = admin_page
    visit(page, f"{site}/admin/policy/commitment/import/")
    upload = tmp_path / "commitments.json"
    upload.write_text("[]")
    page.locator("input[type=file]").set_input_files(upload)
    expect(page.locator("select.guess_format")).to_have_value(
        page.locator("select.guess_format option", has_text="json").get_attribute("value")
    )

    visit(page, f"{site}/admin/policy/commitment/export/")
    fields = page.locator(".selectable-field-export-row input[type=checkbox]")
    checked = page.locator(".selectable-field-export-row input:checked")
    assert fields.count() > 1
    expect(checked).to_have_count(fields.count())
    page.locator(".select-toggle").uncheck()
    expect(checked).to_have_count(0)
    assert not problems


def test_swagger_ui_renders_the_operations(site, page, problems):
    visit(page, f"{site}/api/v1/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert not problems


def test_redoc_renders_the_operations(site, page, problems):
    visit(page, f"{site}/api/v1/redoc/")
    expect(page.get_by_role("heading", name="Puente API", level=1)).to_be_visible()
    expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    # ReDoc always shows Redocly's logo from their CDN; the policy keeps the page from fetching it.
    assert len(problems) == 1
    assert "img-src refused https://cdn.redoc.ly/redoc/logo-mini.svg" in problems[0]


def test_browsable_api_filters_open_under_the_policy(site, page, problems):
    visit(page, f"{site}/api/v1/commitments/")
    page.get_by_role("button", name="Filters").click()
    expect(page.locator("#filtersModal input[name=search]")).to_be_visible()
    assert not problems
