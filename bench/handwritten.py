"""What /api/v1/commitments/ answers an anonymous reader, field for field, without DRF.

Rows come from `values()`, with one query for each relation as the API's prefetches do, and are
serialised with orjson: the mark that bench/run.py holds the API's list against, served at
/bench/handwritten/commitments/ with BENCH_VIEWS=1.
"""

from collections import defaultdict

import orjson
from django.core.paginator import InvalidPage, Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from rest_framework.utils.urls import remove_query_param, replace_query_param

from policy.models import Article, Commitment, FocusArea, SourceQuote, StatusUpdate

# As policy/api/pagination.py and REST_FRAMEWORK["PAGE_SIZE"].
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def commitment_list(request):
    """A page of published commitments, as the API lists them to anonymous readers."""
    size = page_size(request.GET.get("page_size"))
    # Counted without the joins of the rows' related fields, which a count does not need.
    paginator = Paginator(Commitment.objects.published(), size)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage:
        return JsonResponse({"detail": "Invalid page."}, status=404)
    offset = (page.number - 1) * size
    rows = list(commitment_rows()[offset : offset + size])
    related = related_rows([row["id"] for row in rows])
    api_url = request.build_absolute_uri(reverse("api:commitment-list"))
    # Each commitment's page is its slug under the list's, in the request's language.
    page_url = request.build_absolute_uri(reverse("policy:commitment_list"))
    body = {
        "count": paginator.count,
        "next": page_link(request, page.next_page_number()) if page.has_next() else None,
        "previous": (
            page_link(request, page.previous_page_number()) if page.has_previous() else None
        ),
        "results": [
            commitment_data(row, related, api_url=api_url, page_url=page_url) for row in rows
        ],
    }
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def page_size(value):
    try:
        size = int(value)
    except (TypeError, ValueError):
        return PAGE_SIZE
    return min(size, MAX_PAGE_SIZE) if size > 0 else PAGE_SIZE


def page_link(request, number):
    url = request.build_absolute_uri()
    if number == 1:
        return remove_query_param(url, "page")
    return replace_query_param(url, "page", number)


def commitment_rows():
    return (
        Commitment.objects.published()
        .annotate(
            part_of_published=Exists(Commitment.objects.published().filter(pk=OuterRef("part_of")))
        )
        .values(
            "id",
            "title",
            "slug",
            "description",
            "kind",
            "current_status",
            "target_value",
            "target_unit",
            "target_qualifier",
            "amount",
            "currency",
            "usd_equivalent",
            "period_start",
            "period_start_precision",
            "period_end",
            "period_end_precision",
            "geographic_scope",
            "announced_at__name",
            "announced_at__slug",
            "part_of__slug",
            "part_of_published",
            "updated_at",
        )
    )


def related_rows(ids):
    """Each relation the API shows, grouped by commitment, in the order the API gives it."""
    grouped = defaultdict(lambda: defaultdict(list))
    parties = Commitment.parties.through.objects.filter(commitment_id__in=ids)
    for row in parties.order_by("actor__name").values(
        "commitment_id", "actor__name", "actor__slug"
    ):
        grouped["parties"][row["commitment_id"]].append(
            {"name": row["actor__name"], "slug": row["actor__slug"]}
        )
    countries = Commitment.countries.through.objects.filter(commitment_id__in=ids)
    for row in countries.order_by("country__name").values(
        "commitment_id", "country__iso_code", "country__name", "country__slug"
    ):
        grouped["countries"][row["commitment_id"]].append(
            {
                "iso_code": row["country__iso_code"],
                "name": row["country__name"],
                "slug": row["country__slug"],
            }
        )
    focus_areas = Commitment.focus_areas.through.objects.filter(
        commitment_id__in=ids, focusarea__in=FocusArea.objects.published()
    )
    for row in focus_areas.order_by("focusarea__order", "focusarea__name").values(
        "commitment_id", "focusarea__slug", "focusarea__name"
    ):
        grouped["focus_areas"][row["commitment_id"]].append(
            {"slug": row["focusarea__slug"], "name": row["focusarea__name"]}
        )
    quotes = SourceQuote.objects.published().filter(commitment_id__in=ids)
    for row in quotes.values("commitment_id", "article__slug", "text"):
        grouped["quotes"][row["commitment_id"]].append(
            {"article": row["article__slug"], "text": row["text"]}
        )
    updates = StatusUpdate.objects.filter(commitment_id__in=ids).annotate(
        source_published=Exists(Article.objects.published().filter(pk=OuterRef("source_article")))
    )
    for row in updates.values(
        "commitment_id",
        "date",
        "status",
        "note",
        "source_article__slug",
        "source_published",
        "source_url",
        "source_quote",
    ):
        source_article = row["source_article__slug"] if row["source_published"] else None
        grouped["status_history"][row["commitment_id"]].append(
            {
                "date": row["date"].isoformat(),
                "status": row["status"],
                "note": row["note"],
                "source_article": source_article,
                "source_url": row["source_url"],
                # The quote shows with its article only.
                "source_quote": row["source_quote"] if source_article else "",
            }
        )
    return grouped


def commitment_data(row, related, *, api_url, page_url):
    key = row["id"]
    return {
        "title": row["title"],
        "slug": row["slug"],
        "url": f"{api_url}{row['slug']}/",
        "html_url": f"{page_url}{row['slug']}/",
        "description": row["description"],
        "kind": row["kind"],
        "status": row["current_status"],
        "figures": figures(row),
        "geographic_scope": row["geographic_scope"],
        "parties": related["parties"][key],
        "countries": related["countries"][key],
        "focus_areas": related["focus_areas"][key],
        "announced_at": (
            {"name": row["announced_at__name"], "slug": row["announced_at__slug"]}
            if row["announced_at__slug"] is not None
            else None
        ),
        "part_of": row["part_of__slug"] if row["part_of_published"] else None,
        "quotes": related["quotes"][key],
        "status_history": related["status_history"][key],
        "updated_at": iso_datetime(row["updated_at"]),
    }


def figures(row):
    # The model's own wording of the period, from an unsaved instance: one place for the rule.
    period = Commitment(
        period_start=row["period_start"],
        period_start_precision=row["period_start_precision"],
        period_end=row["period_end"],
        period_end_precision=row["period_end_precision"],
    )
    return {
        "target": (
            {
                "value": decimal(row["target_value"]),
                "unit": row["target_unit"],
                "qualifier": row["target_qualifier"],
            }
            if row["target_value"] is not None
            else None
        ),
        "amount": (
            {
                "value": decimal(row["amount"]),
                "currency": row["currency"],
                "usd_equivalent": decimal(row["usd_equivalent"]),
            }
            if row["amount"] is not None
            else None
        ),
        "period": {
            "start": iso_date(row["period_start"]),
            "start_precision": row["period_start_precision"],
            "end": iso_date(row["period_end"]),
            "end_precision": row["period_end_precision"],
            "display": str(period.period_display),
        },
    }


def decimal(value):
    return None if value is None else f"{value:.2f}"


def iso_date(value):
    return None if value is None else value.isoformat()


def iso_datetime(value):
    # As DRF writes times in UTC.
    return value.isoformat().replace("+00:00", "Z")
