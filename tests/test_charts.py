"""Charts and the country tiles: their numbers, their geometry, and how the pages show them."""

from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from policy import charts, tiles
from policy.charts import Datum
from policy.models import (
    Commitment,
    CommitmentStatus,
    Country,
    FocusArea,
    GeographicScope,
    PublicationStatus,
)
from tests.factories import (
    CommitmentFactory,
    CountryFactory,
    FocusAreaFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
)

DRAFT = PublicationStatus.DRAFT
CELAC_MEMBERS = 33


def data(*values):
    return [
        Datum(label=f"Row {index}", value=value, display=str(value))
        for index, value in enumerate(values)
    ]


VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


class Page(HTMLParser):
    """Every element of a page with its attributes, its text and the elements it is inside."""

    def __init__(self, text):
        super().__init__()
        self.elements = []
        self._open = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        element = {
            "tag": tag,
            "attrs": attrs,
            "classes": set(attrs.get("class", "").split()),
            "text": "",
            "within": list(self._open),
        }
        self.elements.append(element)
        if tag not in VOID_ELEMENTS:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open and self._open.pop()["tag"] != tag:
            pass

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag, css_class=None, within=None):
        return [
            element
            for element in self.elements
            if element["tag"] == tag
            and (css_class is None or css_class in element["classes"])
            and (within is None or any(outer is within for outer in element["within"]))
        ]

    def by_id(self, element_id):
        return next(e for e in self.elements if e["attrs"].get("id") == element_id)


def texts(elements):
    return [element["text"].strip() for element in elements]


def charts_on(page):
    """Each chart of the page: its svg, the numbers and labels it draws, and its table cells."""
    return [
        {
            "svg": page.find("svg", within=figure)[0],
            "values": texts(page.find("text", "chart__value", within=figure)),
            "labels": texts(page.find("text", "chart__label", within=figure)),
            "cells": texts(page.find("td", within=figure) + page.find("th", within=figure)),
        }
        for figure in page.find("figure", "chart")
    ]


def tile_links(page):
    """The link of each tile, by the code it shows."""
    return {
        link["text"].strip(): link["attrs"]
        for link in page.find("a")
        if any("tile-map__tile" in outer["classes"] for outer in link["within"])
    }


def shaded_codes(page):
    return sorted(
        link["text"].strip()
        for tile in page.find("li", "tile-map__tile--4")
        for link in page.find("a", within=tile)
    )


# Geometry


def test_bar_lengths_are_proportional_to_the_values():
    bars, _ticks, _axis = charts.layout(data(1, 2, 4), width=400)

    widths = [bar.width for bar in bars]
    assert widths[1] == 2 * widths[0]
    assert widths[2] == 4 * widths[0]
    assert max(widths) <= 400


def test_a_zero_value_keeps_its_row_with_a_bar_of_no_length():
    bars, _ticks, _axis = charts.layout(data(0, 3))

    assert bars[0].width == 0
    assert bars[0].datum.display == "0"
    assert bars[1].y > bars[0].y


def test_one_value_gets_a_round_scale_that_covers_it():
    scale = charts.linear_scale([7], 100)

    assert (scale.maximum, scale.step) == (8, 2)
    assert scale.position(7) == 87.5
    assert [tick.value for tick in charts.ticks(scale)] == [0, 2, 4, 6, 8]


def test_many_values_get_a_round_scale_that_covers_the_largest():
    scale = charts.linear_scale([3, 250, 1200], 300)

    assert (scale.maximum, scale.step) == (1500, 500)
    assert scale.position(1500) == 300
    assert [tick.value for tick in charts.ticks(scale)] == [0, 500, 1000, 1500]


@pytest.mark.parametrize(
    ("maximum", "step"), [(0, 1), (3, 1), (6, 2), (18, 5), (40, 10), (9_230_000_000, 5 * 10**9)]
)
def test_ticks_step_by_one_two_or_five_times_a_power_of_ten(maximum, step):
    assert charts.nice_step(maximum) == step


def test_only_zeros_give_bars_without_ticks_and_no_division_by_zero():
    bars, chart_ticks, _axis = charts.layout(data(0, 0))

    assert [bar.width for bar in bars] == [0, 0]
    assert chart_ticks == ()


def test_ticks_of_billions_are_written_in_billions_and_keep_the_chart_edges():
    scale = charts.linear_scale([9_230_000_000], 320)

    chart_ticks = charts.ticks(scale, unit=charts.tick_unit(scale.maximum))

    assert [tick.label for tick in chart_ticks] == ["0", "5", "10"]
    assert [tick.anchor for tick in chart_ticks] == ["start", "middle", "end"]


# The data of the charts


@pytest.mark.django_db
def test_status_totals_list_every_status_in_the_meters_order_with_zeros():
    StatusUpdateFactory(commitment=CommitmentFactory(), status=CommitmentStatus.KEPT)
    CommitmentFactory()

    chart = charts.status_chart(Commitment.objects.published())

    assert [bar.datum.key for bar in chart.bars] == list(CommitmentStatus)
    assert {bar.datum.key: bar.datum.value for bar in chart.bars} == {
        "not_yet_rated": 1,
        "in_the_works": 0,
        "stalled": 0,
        "compromise": 0,
        "kept": 1,
        "broken": 0,
    }
    assert chart.total == 2


@pytest.mark.django_db
def test_money_by_currency_sums_exact_decimals():
    CommitmentFactory(amount=Decimal("0.10"), currency="CNY")
    CommitmentFactory(amount=Decimal("0.20"), currency="CNY")
    CommitmentFactory(amount=Decimal("12345678901.23"), currency="BRL")
    CommitmentFactory(amount=Decimal("0.01"), currency="BRL")

    totals = {
        total.currency: total.amount
        for total in charts.money_by_currency(Commitment.objects.published())
    }

    assert totals == {"BRL": Decimal("12345678901.24"), "CNY": Decimal("0.30")}
    assert all(isinstance(amount, Decimal) for amount in totals.values())


@pytest.mark.django_db
def test_money_by_currency_never_adds_amounts_of_different_currencies():
    CommitmentFactory(amount=Decimal("66000000000"), currency="CNY")
    CommitmentFactory(amount=Decimal("5000000000"), currency="USD")

    totals = charts.money_by_currency(Commitment.objects.published())

    assert [(total.currency, total.amount, total.commitments) for total in totals] == [
        ("CNY", Decimal("66000000000"), 1),
        ("USD", Decimal("5000000000"), 1),
    ]


@pytest.mark.django_db
def test_stated_usd_equivalents_are_summed_apart_and_only_where_given():
    CommitmentFactory(
        amount=Decimal("66000000000"), currency="CNY", usd_equivalent=Decimal("9230000000")
    )
    CommitmentFactory(amount=Decimal("1000"), currency="CNY")
    CommitmentFactory(amount=Decimal("700"), currency="BRL")

    brl, cny = charts.money_by_currency(Commitment.objects.published())

    assert (cny.amount, cny.stated_usd, cny.commitments_with_stated_usd) == (
        Decimal("66000001000"),
        Decimal("9230000000"),
        1,
    )
    assert brl.stated_usd is None
    assert charts.stated_usd_cell(cny) == "9,230,000,000 USD, for 1 of 2 commitments"


@pytest.mark.django_db
def test_money_chart_bars_show_only_the_dollar_figures_the_sources_state():
    CommitmentFactory(
        amount=Decimal("66000000000"), currency="CNY", usd_equivalent=Decimal("9230000000")
    )
    CommitmentFactory(amount=Decimal("700"), currency="BRL")
    CommitmentFactory(amount=Decimal("5000000000"), currency="USD")

    chart = charts.money_chart(charts.money_by_currency(Commitment.objects.published()))

    bars = {bar.datum.label: bar for bar in chart.bars}
    assert bars["700 BRL"].width == 0
    assert bars["700 BRL"].datum.display == "not stated"
    assert bars["66,000,000,000 CNY"].datum.display == "9,230,000,000 USD"
    assert bars["5,000,000,000 USD"].datum.display == "5,000,000,000 USD"
    assert bars["66,000,000,000 CNY"].width > bars["5,000,000,000 USD"].width
    assert chart.axis_label == "Billions of US dollars, as the sources state them"


@pytest.mark.django_db
def test_draft_commitments_are_never_counted_in_charts_or_tiles(client):
    peru = CountryFactory(name="Peru", iso_code="PE", region="south_america")
    area = FocusAreaFactory(name="Energy")
    draft = CommitmentFactory(amount=Decimal(5), currency="USD", publication_status=DRAFT)
    StatusUpdateFactory(commitment=draft, status=CommitmentStatus.KEPT)
    draft.countries.add(peru)
    draft.focus_areas.add(area)

    context = client.get(reverse("policy:home")).context

    assert context["status_chart"].total == 0
    assert context["money_chart"].bars == ()
    assert [bar.datum.value for bar in context["focus_area_chart"].bars] == [0]
    assert [tile.level for tile in context["country_tiles"].tiles] == [0]


# Rendering of the charts


@pytest.mark.django_db
def test_charts_are_svg_images_with_title_description_and_a_table_of_the_same_numbers(client):
    commitment = CommitmentFactory(
        amount=Decimal("66000000000"), currency="CNY", usd_equivalent=Decimal("9230000000")
    )
    StatusUpdateFactory(commitment=commitment, status=CommitmentStatus.KEPT)
    commitment.focus_areas.add(FocusAreaFactory(name="Infrastructure"))

    page = Page(client.get(reverse("policy:home")).text)

    found = charts_on(page)
    assert len(found) == 3
    for chart in found:
        svg = chart["svg"]["attrs"]
        assert svg["role"] == "img"
        assert svg["viewbox"].startswith("0 0 ")
        title_id, desc_id = svg["aria-labelledby"].split()
        assert page.by_id(title_id)["tag"] == "title"
        assert page.by_id(desc_id)["tag"] == "desc"
        assert page.by_id(desc_id)["text"].strip()
        assert chart["values"]
        assert all(value in chart["cells"] for value in chart["values"])
        assert all(label in chart["cells"] for label in chart["labels"])
    status, money, focus_areas = found
    assert status["values"] == ["0", "0", "0", "0", "1", "0"]
    assert money["labels"] == ["66,000,000,000 CNY"]
    assert money["values"] == ["9,230,000,000 USD"]
    assert focus_areas["labels"] == ["Infrastructure"]


@pytest.mark.django_db
def test_status_table_links_each_status_to_the_filtered_list(client):
    page = client.get(reverse("policy:home")).text

    for status in CommitmentStatus:
        assert f'href="{reverse("policy:commitment_list")}?status={status.value}"' in page


@pytest.mark.django_db
def test_chart_coordinates_are_not_written_with_a_decimal_comma(client):
    StatusUpdateFactory(commitment=CommitmentFactory(), status=CommitmentStatus.KEPT)
    CommitmentFactory.create_batch(3)

    with translation.override("es"):
        page = Page(client.get(reverse("policy:home")).text)

    widths = [rect["attrs"]["width"] for rect in page.find("rect", "chart__bar")]
    assert "106.67" in widths
    assert not any("," in width for width in widths)


# Country tiles


def test_every_tile_has_its_own_place_on_the_grid():
    places = list(tiles.POSITIONS.values())

    assert len(places) == len(set(places)) == CELAC_MEMBERS


def test_a_country_missing_from_the_layout_still_gets_a_tile_below_the_map():
    newcomer = Country(name="Puerto Rico", iso_code="PR", region="caribbean")
    mexico = Country(name="Mexico", iso_code="MX", region="central_america")

    placed = {
        country.iso_code: (row, column)
        for country, row, column in tiles.positions([newcomer, mexico])
    }

    assert placed == {"MX": (1, 1), "PR": (tiles.ROWS + 1, 1)}


def test_shades_grow_with_the_count_and_the_legend_covers_every_count():
    assert [tiles.shade_level(count, 5) for count in range(6)] == [0, 1, 2, 3, 4, 4]
    assert tiles.shade_level(1, 1) == tiles.SHADES
    covered = [n for _level, low, high in tiles.shade_ranges(10) for n in range(low, high + 1)]
    assert covered == list(range(1, 11))


@pytest.mark.django_db
def test_home_page_tiles_every_country_of_the_region_from_the_seed_linked_to_its_page(client, seed):
    regional = Country.objects.in_latin_america_and_caribbean()
    assert regional.count() == CELAC_MEMBERS

    page = Page(client.get(reverse("policy:home")).text)

    links = tile_links(page)
    assert sorted(links) == sorted(regional.values_list("iso_code", flat=True))
    assert "CN" not in links
    brazil = Country.objects.get(iso_code="BR")
    assert links["BR"]["href"] == brazil.get_absolute_url()
    assert links["BR"]["aria-label"] == "Brazil (BR): 1 commitment"
    assert shaded_codes(page) == ["AR", "BR", "CL", "PE", "UY"]


@pytest.mark.django_db
def test_tiles_offer_the_countries_with_their_counts_as_a_list(client, seed):
    page = client.get(reverse("policy:home")).text

    assert "Brazil (BR): 1 commitment</a>" in page
    assert "Cuba (CU): 0 commitments</a>" in page


@pytest.mark.django_db
def test_country_list_page_shows_the_tiles_without_another_query(client, seed):
    with CaptureQueriesContext(connection) as queries:
        page = Page(client.get(reverse("policy:country_list")).text)

    assert len(tile_links(page)) == CELAC_MEMBERS
    assert sum("policy_country" in query["sql"] for query in queries) == 1


@pytest.mark.django_db
def test_commitment_page_shades_the_countries_its_sources_name(client, seed):
    visa = Commitment.objects.get(kind="visa_policy")

    page = Page(client.get(visa.get_absolute_url()).text)

    assert len(tile_links(page)) == CELAC_MEMBERS
    assert shaded_codes(page) == ["AR", "BR", "CL", "PE", "UY"]
    assert tile_links(page)["PE"]["aria-label"] == "Peru (PE): named by the sources"


@pytest.mark.django_db
def test_regional_commitment_page_says_so_and_shades_no_country_its_sources_do_not_name(
    client, seed
):
    credit_line = Commitment.objects.get(kind="credit_line")
    assert credit_line.geographic_scope == GeographicScope.REGIONAL

    response = client.get(credit_line.get_absolute_url())

    assert shaded_codes(Page(response.text)) == []
    assert "concerns Latin America and the Caribbean as a region" in response.text
    assert "The sources name no country of the region." in response.text


@pytest.mark.django_db
def test_regional_commitment_shades_only_the_countries_it_names(client):
    commitment = CommitmentFactory(geographic_scope=GeographicScope.REGIONAL)
    commitment.countries.add(CountryFactory(name="Chile", iso_code="CL"))
    CountryFactory(name="Peru", iso_code="PE")

    page = Page(client.get(commitment.get_absolute_url()).text)

    assert shaded_codes(page) == ["CL"]


# Query counts


def fill(count):
    """Commitments that touch everything the charts and tiles count."""
    countries = [
        CountryFactory(name=name, iso_code=code)
        for name, code in (("Brazil", "BR"), ("Peru", "PE"))
    ]
    areas = FocusArea.objects.all() or FocusAreaFactory.create_batch(2)
    for index in range(count):
        commitment = CommitmentFactory(
            amount=Decimal(100 + index),
            currency=("CNY", "USD", "BRL")[index % 3],
            usd_equivalent=Decimal(14) if index % 2 else None,
        )
        StatusUpdateFactory(commitment=commitment, status=list(CommitmentStatus)[index % 6])
        SourceQuoteFactory(commitment=commitment)
        commitment.countries.add(*countries)
        commitment.focus_areas.add(*areas)


@pytest.mark.django_db
def test_home_page_query_count_is_the_same_for_3_and_30_commitments(client):
    url = reverse("policy:home")
    fill(3)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    fill(27)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)
    assert Commitment.objects.count() == 30


@pytest.mark.django_db
def test_commitment_page_query_count_does_not_grow_with_the_countries_it_names(client):
    commitment = CommitmentFactory()
    commitment.countries.add(CountryFactory(name="Brazil", iso_code="BR"))
    with CaptureQueriesContext(connection) as one:
        client.get(commitment.get_absolute_url())
    commitment.countries.add(
        *(
            CountryFactory(name=name, iso_code=code)
            for name, code in (("Peru", "PE"), ("Chile", "CL"))
        )
    )
    with CaptureQueriesContext(connection) as three:
        client.get(commitment.get_absolute_url())

    assert len(three) == len(one)
