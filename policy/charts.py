"""Charts of the public site: the numbers they show, and the geometry of their bars.

The functions here compute positions and labels only; `includes/charts/bar_chart.html` draws
them as SVG, with the same numbers in a table for readers who cannot see the picture.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

# Sizes in the units of the SVG viewBox, which the browser scales to the width of the page.
WIDTH = 320
ROW_HEIGHT = 46
LABEL_BASELINE = 16
BAR_TOP = 23
BAR_HEIGHT = 16
TICK_LABEL_OFFSET = 16
AXIS_LABEL_OFFSET = 34
AXIS_HEIGHT = 42
# Round numbers for the ticks of an axis: 1, 2 or 5 times a power of ten.
NICE_MULTIPLES = (1, 2, 5, 10)
TICK_INTERVALS = 4
# Axis labels of large amounts name the unit, so that the ticks read 2.5, 5, 7.5 and 10.
TICK_UNITS = (10**9, 10**6)


@dataclass(frozen=True)
class Datum:
    """One row of a chart: what the bar stands for, its length and how the number reads."""

    label: str
    value: Decimal | int
    display: str
    # The table's cells after the row heading; by default, the displayed number.
    cells: tuple[str, ...] = ()
    # A CSS modifier that colours the bar, such as a status.
    key: str = ""
    url: str = ""

    @property
    def table_cells(self):
        return self.cells or (self.display,)


@dataclass(frozen=True)
class Bar:
    datum: Datum
    x: float
    y: float
    width: float
    height: float
    label_y: float


@dataclass(frozen=True)
class Tick:
    value: int
    x: float
    label: str
    # The outer labels align to the edges of the chart so that they are never cut off.
    anchor: str


@dataclass(frozen=True)
class Scale:
    """A linear scale from zero to a round maximum, in round steps, onto a length."""

    maximum: int
    step: int
    length: float

    def position(self, value):
        return round(float(value) / self.maximum * self.length, 2)


@dataclass(frozen=True)
class BarChart:
    slug: str
    title: str
    description: str
    headings: tuple[str, ...]
    axis_label: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    width: int
    height: int
    axis_y: float
    note: str = ""

    @property
    def total(self):
        return sum(bar.datum.value for bar in self.bars)

    @property
    def tick_label_y(self):
        return self.axis_y + TICK_LABEL_OFFSET

    @property
    def axis_label_y(self):
        return self.axis_y + AXIS_LABEL_OFFSET


def nice_step(maximum, intervals=TICK_INTERVALS):
    """The smallest round step that covers `maximum` in `intervals` steps; at least 1."""
    raw = Decimal(maximum) / intervals
    if raw <= 1:
        return 1
    magnitude = Decimal(10) ** raw.adjusted()
    return next(int(m * magnitude) for m in NICE_MULTIPLES if raw <= m * magnitude)


def linear_scale(values, length):
    """A scale whose round maximum covers the largest value; all zeros still give a scale."""
    largest = max(values, default=0)
    step = nice_step(largest)
    return Scale(
        maximum=max(math.ceil(Decimal(largest) / step), 1) * step, step=step, length=length
    )


def tick_unit(maximum):
    """The power of a thousand that large tick values are written in: billions, millions."""
    return next((unit for unit in TICK_UNITS if maximum >= unit), 1)


def ticks(scale, *, unit=1):
    values = range(0, scale.maximum + 1, scale.step)
    last = len(values) - 1
    return tuple(
        Tick(
            value=value,
            x=scale.position(value),
            label=number_format((Decimal(value) / unit).normalize(), force_grouping=True),
            anchor="start" if index == 0 else "end" if index == last else "middle",
        )
        for index, value in enumerate(values)
    )


def layout(data, *, width=WIDTH, unit=1):
    """Bars for the data, a row each, on one scale; the ticks, and where the axis runs.

    Without any value above zero there is nothing to measure, and no ticks.
    """
    scale = linear_scale([datum.value for datum in data], width)
    bars = tuple(
        Bar(
            datum=datum,
            x=0,
            y=row * ROW_HEIGHT + BAR_TOP,
            width=scale.position(datum.value),
            height=BAR_HEIGHT,
            label_y=row * ROW_HEIGHT + LABEL_BASELINE,
        )
        for row, datum in enumerate(data)
    )
    axis_y = len(data) * ROW_HEIGHT
    measured = any(datum.value for datum in data)
    return bars, ticks(scale, unit=unit) if measured else (), axis_y


def bar_chart(data, *, slug, title, description, headings, axis_label, note="", unit=1):
    bars, chart_ticks, axis_y = layout(data, unit=unit)
    return BarChart(
        slug=slug,
        title=title,
        description=description,
        headings=headings,
        axis_label=axis_label,
        bars=bars,
        ticks=chart_ticks,
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        axis_y=axis_y,
        note=note,
    )


def count_display(value):
    return number_format(value, force_grouping=True)


def money_display(amount, currency):
    return f"{number_format(amount.normalize(), force_grouping=True)} {currency}"


def summary(data):
    return "; ".join(
        _("%(label)s: %(value)s") % {"label": datum.label, "value": datum.display} for datum in data
    )


# The data of each chart


def status_chart(commitments):
    """Commitments by current status: every status of the meter, in its order, zeros too."""
    totals = commitments.status_totals()
    list_url = reverse("policy:commitment_list")
    data = [
        Datum(
            label=str(status.label),
            value=total,
            display=count_display(total),
            key=status.value,
            url=f"{list_url}?{urlencode({'status': status.value})}",
        )
        for status, total in totals.items()
    ]
    total = sum(totals.values())
    return bar_chart(
        data,
        slug="chart-status",
        title=_("Commitments by status"),
        description=ngettext(
            "%(total)s commitment, by its current status. %(summary)s.",
            "%(total)s commitments, by their current status. %(summary)s.",
            total,
        )
        % {"total": count_display(total), "summary": summary(data)},
        headings=(_("Status"), _("Commitments")),
        axis_label=_("Commitments"),
    )


def focus_area_chart(focus_areas):
    """Commitments by focus area, from focus areas annotated with their `commitment_count`."""
    data = [
        Datum(
            label=focus_area.name,
            value=focus_area.commitment_count,
            display=count_display(focus_area.commitment_count),
            url=focus_area.get_absolute_url(),
        )
        for focus_area in focus_areas
    ]
    return bar_chart(
        data,
        slug="chart-focus-areas",
        title=_("Commitments by focus area"),
        description=_(
            "How many commitments each focus area groups; a commitment may belong to several "
            "focus areas or to none. %(summary)s."
        )
        % {"summary": summary(data)},
        headings=(_("Focus area"), _("Commitments")),
        axis_label=_("Commitments"),
    )


@dataclass(frozen=True)
class CurrencyTotal:
    """The money pledged in one currency, and the US dollar equivalents its sources state."""

    currency: str
    amount: Decimal
    commitments: int
    stated_usd: Decimal | None
    commitments_with_stated_usd: int

    @property
    def usd(self):
        """The amount in US dollars as the sources give it, never converted by the tracker."""
        return self.amount if self.currency == "USD" else self.stated_usd


def money_by_currency(commitments):
    """Exact sums of the amounts pledged in each currency, and of the stated USD equivalents.

    One query; the sums are taken in Python, because SQLite adds decimals as floats.
    """
    amounts = defaultdict(Decimal)
    stated_usd = defaultdict(Decimal)
    counts = defaultdict(int)
    stated_counts = defaultdict(int)
    rows = (
        commitments.exclude(amount=None)
        .order_by()
        .values_list("currency", "amount", "usd_equivalent")
    )
    for currency, amount, usd_equivalent in rows:
        amounts[currency] += amount
        counts[currency] += 1
        if usd_equivalent is not None:
            stated_usd[currency] += usd_equivalent
            stated_counts[currency] += 1
    return [
        CurrencyTotal(
            currency=currency,
            amount=amounts[currency],
            commitments=counts[currency],
            stated_usd=stated_usd[currency] if stated_counts[currency] else None,
            commitments_with_stated_usd=stated_counts[currency],
        )
        for currency in sorted(amounts)
    ]


def stated_usd_display(total):
    if total.usd is None:
        return _("not stated")
    return money_display(total.usd, "USD")


def stated_usd_cell(total):
    """The stated equivalent, and for how many commitments when not all of them state one."""
    if total.currency == "USD" or total.commitments_with_stated_usd in (0, total.commitments):
        return stated_usd_display(total)
    return ngettext(
        "%(amount)s, for %(stated)s of %(total)s commitment",
        "%(amount)s, for %(stated)s of %(total)s commitments",
        total.commitments,
    ) % {
        "amount": stated_usd_display(total),
        "stated": count_display(total.commitments_with_stated_usd),
        "total": count_display(total.commitments),
    }


def money_summary(total):
    return ngettext(
        "%(amount)s in %(count)s commitment (stated USD equivalent: %(usd)s)",
        "%(amount)s in %(count)s commitments (stated USD equivalent: %(usd)s)",
        total.commitments,
    ) % {
        "amount": money_display(total.amount, total.currency),
        "count": count_display(total.commitments),
        "usd": stated_usd_cell(total),
    }


MONEY_AXIS_LABELS = {
    10**9: gettext_lazy("Billions of US dollars, as the sources state them"),
    10**6: gettext_lazy("Millions of US dollars, as the sources state them"),
    1: gettext_lazy("US dollars, as the sources state them"),
}


def money_chart(totals):
    """Money by currency, never added across currencies.

    Bar lengths compare the US dollar figures the sources state, so that no length stands for
    a conversion the tracker would have made; a currency without one has no bar.
    """
    data = [
        Datum(
            label=money_display(total.amount, total.currency),
            value=total.usd or 0,
            display=stated_usd_display(total),
            cells=(count_display(total.commitments), stated_usd_cell(total)),
        )
        for total in totals
    ]
    unit = tick_unit(linear_scale([datum.value for datum in data], WIDTH).maximum)
    return bar_chart(
        data,
        slug="chart-money",
        title=_("Money pledged, by currency"),
        description=_(
            "The amounts pledged in each currency, which are never added across currencies, "
            "with bars for the US dollar equivalents that the sources state. %(summary)s."
        )
        % {"summary": "; ".join(money_summary(total) for total in totals)},
        headings=(_("Amount pledged"), _("Commitments"), _("Stated USD equivalent")),
        axis_label=MONEY_AXIS_LABELS[unit],
        note=_(
            "Puente never converts currencies: a bar shows a dollar figure only where the "
            "source gives one."
        ),
        unit=unit,
    )
