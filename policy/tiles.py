"""The country overview: Latin America and the Caribbean as a grid of tiles, one per country.

A tile map gives every country the same size, so that the small island states of the
Caribbean are as easy to see and to point at as Brazil.
"""

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from policy.models import Country, GeographicScope

# Row and column of each country's tile, counted from 1: Mexico at the top left, Central America
# down to Panama, the Caribbean from Cuba east and along the arc of the Lesser Antilles to
# Trinidad and Tobago, and South America below, from Colombia to Argentina.
POSITIONS = {
    "MX": (1, 1),
    "BS": (1, 4),
    "GT": (2, 1),
    "BZ": (2, 2),
    "CU": (2, 4),
    "HT": (2, 5),
    "DO": (2, 6),
    "KN": (2, 7),
    "AG": (2, 8),
    "SV": (3, 1),
    "HN": (3, 2),
    "JM": (3, 4),
    "DM": (3, 8),
    "NI": (4, 2),
    "LC": (4, 8),
    "BB": (4, 9),
    "CR": (5, 2),
    "GD": (5, 6),
    "VC": (5, 7),
    "PA": (6, 2),
    "TT": (6, 5),
    "EC": (7, 2),
    "CO": (7, 3),
    "VE": (7, 4),
    "GY": (7, 5),
    "SR": (7, 6),
    "PE": (8, 3),
    "BO": (8, 4),
    "BR": (8, 5),
    "CL": (9, 3),
    "PY": (9, 4),
    "UY": (9, 5),
    "AR": (10, 4),
}
ROWS = max(row for row, _column in POSITIONS.values())
COLUMNS = max(column for _row, column in POSITIONS.values())
# Shades of a tile besides the blank one; the darkest is for the most commitments.
SHADES = 4


@dataclass(frozen=True)
class Tile:
    country: Country
    row: int
    column: int
    # From 0, blank, to SHADES, the darkest.
    level: int
    # The link's accessible name and tooltip; it contains the code the tile shows.
    label: str
    # The country's page, which the tile and the list below the map both link to.
    url: str


@dataclass(frozen=True)
class LegendEntry:
    level: int
    label: str


@dataclass(frozen=True)
class TileMap:
    caption: str
    note: str
    tiles: tuple[Tile, ...]
    legend_title: str
    legend: tuple[LegendEntry, ...]
    # The text alternative: the tiles that carry information, in alphabetical order.
    listed: tuple[Tile, ...]


def positions(countries):
    """Each country with its row and column; a country the layout does not know yet gets a
    place in the rows below the map, so that none is left out."""
    extra = 0
    for country in countries:
        if country.iso_code in POSITIONS:
            yield country, *POSITIONS[country.iso_code]
        else:
            yield country, ROWS + 1 + extra // COLUMNS, 1 + extra % COLUMNS
            extra += 1


def shade_level(count, maximum):
    """How dark a tile is: 0 without commitments, SHADES for the most, in even steps between."""
    if not count:
        return 0
    return math.ceil(count * SHADES / maximum)


def shade_ranges(maximum):
    """The counts each shade stands for, as (level, lowest, highest), leaving out empty shades."""
    ranges = []
    for level in range(1, SHADES + 1):
        lowest = (level - 1) * maximum // SHADES + 1
        highest = level * maximum // SHADES
        if lowest <= highest:
            ranges.append((level, lowest, highest))
    return ranges


def tiles_of(countries, level, label):
    tiles = [
        Tile(
            country=country,
            row=row,
            column=column,
            level=level(country),
            label=label(country),
            url=country.get_absolute_url(),
        )
        for country, row, column in positions(countries)
    ]
    return tuple(sorted(tiles, key=lambda tile: (tile.row, tile.column)))


def name_and_code(country):
    return _("%(name)s (%(code)s)") % {"name": country.name, "code": country.iso_code}


def count_map(countries):
    """Tiles shaded by how many commitments concern each country.

    `countries` carry a `commitment_count`; those outside the region are left out, so the
    full list of the countries page can be given as it is.
    """
    regional = [country for country in countries if country.is_in_latin_america_and_caribbean]
    maximum = max((country.commitment_count for country in regional), default=0)

    def label(country):
        return ngettext(
            "%(country)s: %(count)s commitment",
            "%(country)s: %(count)s commitments",
            country.commitment_count,
        ) % {"country": name_and_code(country), "count": country.commitment_count}

    legend = [LegendEntry(level=0, label=_("none"))]
    for level, lowest, highest in shade_ranges(maximum):
        if lowest == highest:
            text = str(lowest)
        else:
            text = _("%(lowest)s–%(highest)s") % {"lowest": lowest, "highest": highest}
        legend.append(LegendEntry(level=level, label=text))
    tiles = tiles_of(
        regional, lambda country: shade_level(country.commitment_count, maximum), label
    )
    return TileMap(
        caption=_("How many commitments concern each country of Latin America and the Caribbean"),
        note=_(
            "Commitments made to the region as a whole name no country, and are not counted "
            "for any."
        ),
        tiles=tiles,
        legend_title=_("Commitments concerning the country:"),
        legend=tuple(legend),
        listed=tuple(sorted(tiles, key=lambda tile: tile.country.name)),
    )


CAPTIONS = {
    GeographicScope.COUNTRIES: gettext_lazy(
        "The countries of Latin America and the Caribbean that this commitment concerns, as its "
        "sources name them"
    ),
    GeographicScope.REGIONAL: gettext_lazy(
        "This commitment concerns Latin America and the Caribbean as a region: only the "
        "countries its sources name are shaded"
    ),
    GeographicScope.GLOBAL: gettext_lazy(
        "This commitment is global: only the countries of the region that its sources name are "
        "shaded"
    ),
}


def commitment_map(countries, commitment):
    """Tiles of the region with the countries that the commitment's sources name shaded.

    A regional or global commitment shades only what its sources name, often nothing: the
    tracker never guesses which countries a pledge to the region will reach.
    """
    concerned = {country.pk for country in commitment.countries.all()}

    def level(country):
        return SHADES if country.pk in concerned else 0

    def label(country):
        if country.pk in concerned:
            return _("%(country)s: named by the sources") % {"country": name_and_code(country)}
        return _("%(country)s: not named") % {"country": name_and_code(country)}

    tiles = tiles_of(countries, level, label)
    listed = tuple(
        sorted((tile for tile in tiles if tile.level), key=lambda tile: tile.country.name)
    )
    return TileMap(
        caption=CAPTIONS[commitment.geographic_scope],
        note="" if listed else _("The sources name no country of the region."),
        tiles=tiles,
        legend_title=_("Countries:"),
        legend=(
            LegendEntry(level=SHADES, label=_("named by the sources")),
            LegendEntry(level=0, label=_("not named")),
        ),
        listed=listed,
    )
