"""Stored XSS: whatever is saved into a text field is shown as text wherever it goes, never run.

A corpus of payloads (script tags, event handlers, javascript: URLs, a </script> for the JSON-LD,
SVG, srcdoc, CSS, template syntax, Unicode tricks, markdown links, very long text) is saved
through the admin and the API into the text fields of the policy models, which are found from
their _meta, so that a new field is covered without a change here. Each payload carries a marker
unique to it and to its field. The pages, feeds, JSON-LD, admin and API that show it are parsed
as a browser parses them: a marker found as markup (an element or attribute of its own, an
event handler, a style, code in a script, a javascript: link) names the field that leaked, and
where a field is shown, its text must be there whole. A field whose validation refuses a
payload says so, and keeps its value.

The run stays short: every payload goes into a field of each kind that pages show, and one
payload, which combines several breakouts, into every text field.
"""

import csv
import datetime
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import reversion
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from reversion.models import Version

from policy.api.urls import router
from policy.models import (
    Actor,
    Article,
    Authorship,
    Commitment,
    Country,
    Event,
    FocusArea,
    Keyword,
    Person,
    Project,
    PublicationStatus,
    Region,
    SourceQuote,
    StatusUpdate,
)
from policy.spreadsheets import escape_formula
from policy.templatetags.seo import shorten
from tests.admin_forms import admin_url, change_form_data
from tests.factories import (
    ActorFactory,
    ArticleFactory,
    AuthorshipFactory,
    CommitmentFactory,
    CountryFactory,
    EventFactory,
    FocusAreaFactory,
    KeywordFactory,
    PersonFactory,
    ProjectFactory,
    SourceQuoteFactory,
    StatusUpdateFactory,
    image_upload,
)

pytestmark = pytest.mark.django_db

# The corpus. `{marker}` is replaced (not formatted: the template syntax has braces of its own)
# by a marker unique to the payload and its field. Every payload that is markup carries its
# marker where markup would run: an event handler, a script, a style, a URL, a srcdoc.
PAYLOADS = {
    "script-element": '<script>alert("{marker}")</script>',
    "double-quote-breakout": '"><img src=x onerror=alert("{marker}")>',
    "single-quote-breakout": "'><svg onload=alert('{marker}')>",
    "javascript-url": 'javascript:alert("{marker}")',
    "javascript-link": "<a href=\"javascript:alert('{marker}')\">{marker}</a>",
    "script-close": '</script><script>alert("{marker}")</script>',
    "template-syntax": "{{ 7*7 }}{% debug %}{{ request.user.password }}{marker}",
    "svg-script": '<svg><script>alert("{marker}")</script></svg>',
    "svg-link": "<svg><a xlink:href=\"javascript:alert('{marker}')\"><text>x</text></a></svg>",
    "iframe-srcdoc": "<iframe srcdoc=\"<script>alert('{marker}')</script>\"></iframe>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(\'{marker}\')">',
    "css-expression": "<div style=\"width:expression(alert('{marker}'))\">x</div>",
    "css-javascript-url": "<p style=\"background:url(javascript:alert('{marker}'))\">x</p>",
    "attribute-breakouts": (
        "\" onmouseover=\"alert('{marker}')\" x=\" ' onfocus='alert(\"{marker}\")' autofocus x='"
    ),
    "backtick-breakout": '`onmouseover=alert("{marker}") x=`',
    "markdown-links": '[click](javascript:alert("{marker}")) ![x](x" onerror="alert(\'{marker}\'))',
    "right-to-left-override": '\u202e<img src=x onerror=alert("{marker}")>\u202c gnp.exe',
    "unicode-lookalikes": (
        '＜script＞alert("{marker}")＜/script＞ \ufe64img src=x onerror=alert("{marker}")\ufe65'
        ' \u2028<b onclick=alert("{marker}")>\u2029 zero\u200bwidth'
    ),
    "encoded-entities": (
        '&lt;script&gt;alert("{marker}")&lt;/script&gt;'
        ' &#60;img src=x onerror=alert("{marker}")&#62;'
    ),
    "comments-and-cdata": (
        '--><img src=x onerror=alert("{marker}")><!--'
        ' <![CDATA[<script>alert("{marker}")</script>]]>'
    ),
    "very-long": "<b>" + "long " * 2000 + '<img src=x onerror=alert("{marker}")>' + " tail" * 500,
}
# The payload of the tests of every field: several breakouts at once.
COMBINED = (
    "\"'`><script>alert(\"{marker}\")</script><img src=x onerror=alert('{marker}')>"
    "</script><svg onload=alert(`{marker}`)>"
)
# URLs that run script when followed: every URL field refuses them.
SCRIPT_URLS = {
    "javascript": 'javascript:alert("{marker}")',
    "mixed-case": 'JaVaScRiPt:alert("{marker}")',
    "leading-space": ' javascript:alert("{marker}")',
    "tab-inside": 'java\tscript:alert("{marker}")',
    "slashes": 'javascript://example.org/%0Aalert("{marker}")',
    "vbscript": 'vbscript:msgbox("{marker}")',
    "data": 'data:text/html,<script>alert("{marker}")</script>',
}
# Valid web addresses full of markup: accepted, and quoted in every link made of them.
HOSTILE_WEB_URLS = {
    "double-quote": 'https://example.org/{marker}"onmouseover="alert(\'{marker}\')"',
    "script-in-query": 'https://example.org/{marker}?q="><script>alert("{marker}")</script>',
    "backtick": "https://example.org/{marker}`onmouseover=alert(1)`",
}

DRAFT, PUBLISHED = PublicationStatus.DRAFT, PublicationStatus.PUBLISHED
BODY = "First paragraph with a pledge of 500 scholarships."
QUOTE = "A pledge stated word for word."


class Markers:
    """Hands out payloads, each with a fresh marker, and says where a marker came from."""

    def __init__(self):
        self.origins = {}

    def payload(self, template, origin):
        marker = f"xss{len(self.origins):04d}x"
        self.origins[marker] = origin
        return template.replace("{marker}", marker)

    def describe(self, problems):
        return "\n".join(
            f"{problem} [from {', '.join(self.origins.get(m, m) for m in MARKER.findall(problem))}]"
            for problem in problems
        )


@pytest.fixture
def markers():
    return Markers()


# Pages parsed as a browser parses them

MARKER = re.compile(r"xss\d{4}x")
JSON_LD = "application/ld+json"
# Attributes whose value is data, shown or followed: a payload in one is harmless once it is
# quoted, which the parse proves, and the scheme of a link is checked on its own.
DATA_ATTRIBUTES = {"alt", "aria-label", "cite", "content", "href", "label", "title", "value"}
# The admin's popups hand the record they added to their opener as JSON, for a text <option>.
DATA_ATTRIBUTES.add("data-popup-response")
# Attributes a browser follows as a URL, and the schemes that run script when it does, read
# after dropping what a browser drops: white space and control characters.
URL_ATTRIBUTES = {"action", "background", "data", "formaction", "href", "src", "xlink:href"}
SCRIPT_SCHEME = re.compile(r"(javascript|vbscript|data(?!:image/)):", re.IGNORECASE)
URL_NOISE = re.compile(r"[\x00-\x20\x7f]")
VOID_ELEMENTS = {
    *("area", "base", "br", "col", "embed", "hr", "img", "input"),
    *("link", "meta", "source", "track", "wbr"),
}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict
    parent: "Element | None"

    def __post_init__(self):
        self.children = []

    def text(self):
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()


class Page(HTMLParser):
    """An HTML page or fragment as a tree, and each place in it where a marker may not be.

    A marker may be text, or the value of a data attribute. It may not be an element or an
    attribute name of its own, an event handler, a style, a srcdoc, a refresh, or code in a
    script, style or comment; no link may run script; every JSON-LD block must parse.
    """

    def __init__(self, content, source):
        super().__init__(convert_charrefs=True)
        self.source = source
        self.root = Element("#document", {}, None)
        self.current = self.root
        self.problems = []
        self.feed(content)
        self.close()
        self.json_ld = []
        for element in self.elements():
            self._check_content(element)

    def problem(self, description):
        self.problems.append(f"{self.source}: {description}")

    def handle_starttag(self, tag, attrs):
        element = self._add_element(tag, attrs)
        if tag not in VOID_ELEMENTS:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self._add_element(tag, attrs)

    def _add_element(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if MARKER.search(tag):
            self.problem(f"an element <{tag}> of its own")
        for name, value in attrs.items():
            if MARKER.search(name):
                self.problem(f"an attribute {name}= of its own on <{tag}>")
            elif name in URL_ATTRIBUTES and SCRIPT_SCHEME.match(URL_NOISE.sub("", value)):
                self.problem(f"a link that runs script: <{tag} {name}={value!r}>")
            elif MARKER.search(value) and (
                name not in DATA_ATTRIBUTES or ("http-equiv" in attrs and name == "content")
            ):
                self.problem(f"code in <{tag} {name}={value!r}>")
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        return element

    def handle_endtag(self, tag):
        # As in a browser, an end tag closes the open element it names and those inside it.
        element = self.current
        while element is not self.root and element.tag != tag:
            element = element.parent
        if element is not self.root:
            self.current = element.parent

    def handle_data(self, data):
        self.current.children.append(data)

    def handle_comment(self, data):
        if MARKER.search(data):
            self.problem(f"a comment <!--{data}-->")

    def unknown_decl(self, data):
        if MARKER.search(data):
            self.problem(f"a declaration <![{data}]>")

    def handle_pi(self, data):
        if MARKER.search(data):
            self.problem(f"a processing instruction <?{data}>")

    def _check_content(self, element):
        code = element.text()
        if element.tag == "script" and element.attrs.get("type") == JSON_LD:
            try:
                self.json_ld.append(json.loads(code))
            except json.JSONDecodeError:
                self.problem(f"JSON-LD that does not parse: {code!r}")
        elif element.tag in ("script", "style") and MARKER.search(code):
            self.problem(f"code in <{element.tag}>{code}</{element.tag}>")

    # Reading the page

    def elements(self, tag=None, **attrs):
        return [
            element
            for element in self.root.iter()
            if tag in (None, element.tag)
            and all(value in element.attrs.get(name, "").split() for name, value in attrs.items())
        ]

    def text(self):
        return self.root.text()

    def texts(self):
        """Each stretch of text as a browser shows it, with its entities read."""
        return [
            child
            for element in self.root.iter()
            for child in element.children
            if isinstance(child, str)
        ]

    def data_values(self):
        return [
            value
            for element in self.root.iter()
            for name, value in element.attrs.items()
            if name in DATA_ATTRIBUTES
        ]

    def shows(self, text):
        """Whether `text` is on the page whole, as text or as the value of a data attribute."""
        return any(text in each for each in [*self.texts(), *self.data_values()])

    def meta(self):
        return {
            element.attrs.get("property") or element.attrs.get("name"): element.attrs["content"]
            for element in self.elements("meta")
            if "content" in element.attrs
        }


def the_only(elements):
    (element,) = list(elements)
    return element


def normalised(text):
    """Text as the <head> metadata gives it: one line, each run of white space one space."""
    return " ".join(text.split())


def parsed_page(client, url, *, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code)
    assert response["Content-Type"].startswith("text/html"), url
    return Page(response.content.decode(), url)


def feed_items(client, url):
    """(title, description) of each item of a feed, each parsed as the HTML readers take it for.

    RSS readers render titles and descriptions as HTML. Atom says which it is: a title without
    a type is text, which no reader makes markup of, and the summary is HTML.
    """
    response = client.get(url)
    assert response.status_code == 200, url
    items = []
    for item in ET.fromstring(response.content).iter():  # noqa: S314 - our own feed
        if item.tag == "item":
            parts = (item.findtext("title"), item.findtext("description"))
        elif item.tag == "{http://www.w3.org/2005/Atom}entry":
            title = item.find("{http://www.w3.org/2005/Atom}title")
            summary = item.find("{http://www.w3.org/2005/Atom}summary")
            assert title.get("type") in (None, "text")
            assert summary.get("type") == "html"
            parts = (None, summary.text)
        else:
            continue
        items.append(tuple(Page(part, f"{url} item") if part else None for part in parts))
    return items


def assert_no_problems(pages, markers):
    problems = [problem for page in pages for problem in page.problems]
    assert not problems, markers.describe(problems)


def json_data(response):
    """The data of an API answer: JSON, which no browser may sniff for HTML."""
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"
    return response.json()


def csv_rows(response):
    """The rows of a CSV export: a download, which no browser may sniff for HTML."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


# The text fields, and where the admin and the API write them


def text_fields():
    """Every text field an editor can write, of every policy model: new ones are found too."""
    return [
        field
        for model in apps.get_app_config("policy").get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField)
        and field.editable
        and not field.choices
    ]


TEXT_FIELDS = text_fields()


def label(field):
    return f"{field.model.__name__}.{field.name}"


def field_of(model, name):
    return model._meta.get_field(name)


def refuses(field, value):
    """Whether the model's own validation refuses `value` in `field`."""
    try:
        field.clean(value, None)
    except ValidationError:
        return True
    return False


def editing_admin(model):
    """The registered model whose admin change form edits records of `model`."""
    for registered, model_admin in admin.site._registry.items():
        if registered is model or any(inline.model is model for inline in model_admin.inlines):
            return registered
    raise AssertionError(f"No admin edits {model.__name__}")


def change_form_url(record):
    """The admin change form that edits `record`: its own, or its parent's, with an inline."""
    owner_model = editing_admin(type(record))
    if not isinstance(record, owner_model):
        (record,) = [
            getattr(record, field.name)
            for field in record._meta.fields
            if field.is_relation and field.related_model is owner_model
        ]
    return admin_url(owner_model, "change", record.pk)


class AdminForm:
    """The admin change form that edits a record, as a browser has it, to send with changes."""

    def __init__(self, client, record):
        self.client = client
        self.url = change_form_url(record)
        self.page = client.get(self.url)
        assert self.page.status_code == 200, self.url
        forms = [self.page.context["adminform"].form] + [
            form for inline in self.page.context["inline_admin_formsets"] for form in inline.formset
        ]
        self.forms = {form.instance: form for form in forms if form.instance.pk}

    def post(self, values):
        """POSTs the form with {(record, field name): value}: the record's own or an inline's."""
        changes = {
            self.forms[record].add_prefix(name): value for (record, name), value in values.items()
        }
        return self.client.post(self.url, change_form_data(self.page, **changes))


def admin_form_errors(response):
    """The fields with errors of a change form that came back, as (model, field name) pairs."""
    forms = [response.context["adminform"].form] + [
        form for inline in response.context["inline_admin_formsets"] for form in inline.formset
    ]
    return {(type(form.instance), name) for form in forms for name in form.errors}


API_BASENAMES = {viewset.queryset.model: basename for _, viewset, basename in router.registry}
# The parts of a commitment are added under it, whole: a valid one of each, given the world.
API_PARTS = {
    SourceQuote: lambda world: {"article": world.article.slug, "text": QUOTE},
    StatusUpdate: lambda world: {
        "date": "2025-12-01",
        "status": "kept",
        "note": "Work has begun.",
        "source_url": "https://example.org/report",
        "source_article": world.article.slug,
        "source_quote": QUOTE,
    },
}


def api_path(field):
    """Where a write to the API takes `field`, such as ("figures", "target", "unit"); None when
    the API does not write it (the admin does)."""
    if field.model not in API_BASENAMES:
        return None
    (serializer,) = [
        viewset.serializer_class
        for _, viewset, _ in router.registry
        if viewset.queryset.model is field.model
    ]
    path = getattr(serializer, "model_error_paths", {}).get(field.name, (field.name,))
    node = serializer()
    for key in path:
        node = getattr(node, "fields", {}).get(key)
        if node is None or node.read_only:
            return None
    return path


def nested(path, value):
    for key in reversed(path):
        value = {key: value}
    return value


def dig(data, path):
    for key in path:
        data = data[key]
    return data


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def write_through_api(api, world, field, value):
    """PATCHes `value` into `field` of the world's record, or POSTs a new part of the
    commitment with it. Answers the response and the address that shows the result."""
    basename = API_BASENAMES[field.model]
    body = nested(api_path(field), value)
    if field.model in API_PARTS:
        url = reverse(f"api:{basename}-list", kwargs={"commitment_slug": world.commitment.slug})
        return api.post(url, API_PARTS[field.model](world) | body, format="json"), url
    url = reverse(f"api:{basename}-detail", kwargs={"slug": world.record_of(field.model).slug})
    return api.patch(url, body, format="json"), url


# The records the tests write into


@dataclass
class World:
    """A record of every policy model, related as the pages show them, with plain texts."""

    country: Country
    actor: Actor
    person: Person
    keyword: Keyword
    article: Article
    authorship: Authorship
    event: Event
    focus_area: FocusArea
    project: Project
    commitment: Commitment
    quote: SourceQuote
    status_update: StatusUpdate

    def record_of(self, model):
        (record,) = [record for record in self.records() if type(record) is model]
        return record

    def records(self):
        return vars(self).values()

    def refresh(self):
        for record in self.records():
            record.refresh_from_db()


def build_world(status, *, quotes=()):
    """The records, with `quotes` as paragraphs of the article that everything quotes.

    The first version of each versioned record goes into its history, so a change has a diff.
    """
    with reversion.create_revision():
        country = CountryFactory(
            iso_code="BR", name="Brazil", slug="brazil", region=Region.SOUTH_AMERICA
        )
        actor = ActorFactory(country=country)
        person = PersonFactory(country=country, role="Minister")
        keyword = KeywordFactory()
        article = ArticleFactory(
            publisher=actor,
            body="\n\n".join([BODY, QUOTE, *quotes]),
            summary="A summary.",
            source_url="https://example.org/article",
            publication_status=status,
        )
        source = {"source_article": article, "source_quote": QUOTE}
        for record in (actor, person):
            type(record).objects.filter(pk=record.pk).update(**source)
        authorship = AuthorshipFactory(article=article, person=person, affiliation="A university")
        article.keywords.add(keyword)
        event = EventFactory(
            country=country,
            place="Beijing",
            description="A ministerial meeting.",
            date=datetime.date(2025, 5, 13),
            **source,
        )
        event.participants.add(person)
        focus_area = FocusAreaFactory(
            description="Ports and railways.", publication_status=status, **source
        )
        project = ProjectFactory(
            country=country, place="Chancay", description="A deep-water port.", **source
        )
        project.focus_areas.add(focus_area)
        project.actors.add(actor)
        commitment = CommitmentFactory(
            description="Scholarships for students.",
            target_value=Decimal(3500),
            target_unit="scholarships",
            amount=Decimal(1000000),
            currency="CNY",
            announced_at=event,
            publication_status=status,
        )
        commitment.parties.add(actor)
        commitment.countries.add(country)
        commitment.focus_areas.add(focus_area)
        quote = SourceQuoteFactory(commitment=commitment, article=article, text=QUOTE)
        status_update = StatusUpdateFactory(
            commitment=commitment, source_url="https://example.org/report", **source
        )
    # An image each, so that its text alternative is shown.
    for record in (article, focus_area):
        record.image = image_upload()
        record.image_alt = "A photograph"
        record.save()
    world = World(
        country,
        actor,
        person,
        keyword,
        article,
        authorship,
        event,
        focus_area,
        project,
        commitment,
        quote,
        status_update,
    )
    world.refresh()
    return world


def stored(record, name):
    return type(record).objects.filter(pk=record.pk).values_list(name, flat=True).get()


def compare_url(record):
    """The admin's diff of the record's first version with its latest."""
    versions = Version.objects.get_for_object(record).order_by("pk")
    compare = reverse(f"admin:policy_{record._meta.model_name}_compare", args=[record.pk])
    return f"{compare}?version_id1={versions.first().pk}&version_id2={versions.last().pk}"


# The parse finds each payload on a page that forgot to escape it

# Where a template that forgot to escape would put a payload.
UNESCAPED = {
    "text": lambda value: f"<p>{value}</p>",
    "double-quoted attribute": lambda value: f'<p title="{value}">x</p>',
    "single-quoted attribute": lambda value: f"<p title='{value}'>x</p>",
    "link": lambda value: f'<a href="{value}">x</a>',
    "JSON-LD": lambda value: f'<script type="{JSON_LD}">{{"name": {json.dumps(value)}}}</script>',
}
# Escaping keeps a payload text in an element and in a quoted attribute; only validation keeps
# it out of a link.
ESCAPED = {
    context: UNESCAPED[context]
    for context in ("text", "double-quoted attribute", "single-quoted attribute")
}
# Harmless as HTML: it would run only if stored text were rendered as a template, which the
# exact texts of the pages would show.
TEMPLATE_ONLY = {"template-syntax"}


@pytest.mark.parametrize("name", [name for name in PAYLOADS if name not in TEMPLATE_ONLY])
def test_the_parse_finds_each_payload_where_a_page_forgot_to_escape_it(name, markers):
    payload = markers.payload(PAYLOADS[name], name)
    found_in = [context for context, page in UNESCAPED.items() if Page(page(payload), "").problems]
    assert found_in, f"{name} would go unnoticed unescaped"
    for context, page in ESCAPED.items():
        parsed = Page(page(escape(payload)), context)
        assert not parsed.problems, context
        assert parsed.shows(payload), context


@pytest.mark.parametrize("name", SCRIPT_URLS)
def test_the_parse_finds_each_script_url_in_a_link_even_escaped(name, markers):
    url = markers.payload(SCRIPT_URLS[name], name)
    assert Page(UNESCAPED["link"](escape(url)), "").problems


def test_the_parse_finds_json_ld_that_does_not_parse_and_lets_data_images_be():
    assert Page(f'<script type="{JSON_LD}">{{"name": "</script>', "").problems
    assert not Page('<img src="data:image/png;base64,iVBORw0KGgo=" alt="">', "").problems


def test_the_text_fields_are_found_from_the_models():
    found = {label(field) for field in TEXT_FIELDS}
    assert {
        "Article.title",
        "Article.body",
        "Article.source_url",
        "Article.image_alt",
        "Authorship.affiliation",
        "Commitment.target_unit",
        "SourceQuote.text",
        "StatusUpdate.note",
        "FocusArea.source_quote",
        "Country.iso_code",
    } <= found
    # Vocabularies are choices, not free text.
    assert "Article.language" not in found
    assert "Commitment.kind" not in found


# One payload in every text field, through the admin and the API


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=label)
def test_an_editor_saving_a_payload_in_the_admin_has_it_kept_as_text_or_refused(
    field, editor_client, markers
):
    payload = markers.payload(COMBINED, label(field))
    world = build_world(DRAFT, quotes=[payload])
    record = world.record_of(field.model)
    before = stored(record, field.name)

    form = AdminForm(editor_client, record)
    response = form.post({(record, field.name): payload})

    if refuses(field, payload):
        # The form comes back with the error, and with what was typed.
        assert response.status_code == 200
        assert (field.model, field.name) in admin_form_errors(response)
        assert stored(record, field.name) == before
    else:
        assert response.status_code == 302
        assert stored(record, field.name) == payload
        # The saved record's form, with the message of the save, which names the record.
        response = editor_client.get(form.url)
        assert [message.level_tag for message in response.context["messages"]] == ["success"]
    page = Page(response.content.decode(), form.url)
    assert_no_problems([page], markers)
    assert page.shows(payload)


@pytest.mark.parametrize("field", [field for field in TEXT_FIELDS if api_path(field)], ids=label)
def test_an_editor_writing_a_payload_through_the_api_has_it_kept_as_data_or_refused(
    field, editor, client, markers
):
    payload = markers.payload(COMBINED, label(field))
    world = build_world(DRAFT, quotes=[payload])
    before = list(field.model.objects.values_list("pk", field.name))

    response, url = write_through_api(token_client(editor), world, field, payload)

    if refuses(field, payload):
        assert response.status_code == 400, response.content
        assert ".".join(api_path(field)) in response.json()["errors"]
        assert list(field.model.objects.values_list("pk", field.name)) == before
    else:
        assert response.status_code in (200, 201), response.content
        assert dig(json_data(response), api_path(field)) == payload
        assert field.model.objects.filter(**{field.name: payload}).count() == 1
    # The browsable API shows the record, or the list of the commitment's parts, as JSON text.
    client.force_login(editor)
    browsable = parsed_page(client, url, data={"format": "api", "include_unpublished": "true"})
    assert_no_problems([browsable], markers)
    if not refuses(field, payload):
        assert browsable.shows(json.dumps(payload, ensure_ascii=False)[1:-1])


URL_FIELDS = [field for field in TEXT_FIELDS if isinstance(field, models.URLField)]


@pytest.mark.parametrize("field", URL_FIELDS, ids=label)
def test_url_fields_refuse_every_url_that_runs_script_in_the_admin_and_the_api(
    field, editor, editor_client, markers
):
    world = build_world(DRAFT)
    record = world.record_of(field.model)
    before = list(field.model.objects.values_list("pk", field.name))
    api = token_client(editor)
    form = AdminForm(editor_client, record)
    for name, template in SCRIPT_URLS.items():
        url = markers.payload(template, f"{label(field)}: {name}")
        response = form.post({(record, field.name): url})
        assert (field.model, field.name) in admin_form_errors(response), name
        response, _ = write_through_api(api, world, field, url)
        assert ".".join(api_path(field)) in response.json()["errors"], name
    assert list(field.model.objects.values_list("pk", field.name)) == before


@pytest.mark.parametrize("field", URL_FIELDS, ids=label)
def test_a_web_address_full_of_markup_stays_inside_the_links_made_of_it(
    field, publisher_client, client, markers
):
    world = build_world(PUBLISHED)
    record = world.record_of(field.model)
    page_url = (world.article if field.model is Article else world.commitment).get_absolute_url()
    for name, template in HOSTILE_WEB_URLS.items():
        url = markers.payload(template, f"{label(field)}: {name}")
        response = AdminForm(publisher_client, record).post({(record, field.name): url})
        assert response.status_code == 302, name
        assert stored(record, field.name) == url
        page = parsed_page(client, page_url)
        assert_no_problems([page], markers)
        assert url in [link.attrs.get("href") for link in page.elements("a")], name
        if field.model is Article:
            assert the_only(page.json_ld)["isBasedOn"] == url


# Every text field published, and every place that shows it


def public_pages(client, world):
    """Every kind of page of the public site, each showing some of the world's records."""
    urls = [
        reverse("policy:home"),
        reverse("policy:article_list"),
        world.article.get_absolute_url(),
        reverse("policy:commitment_list"),
        world.commitment.get_absolute_url(),
        reverse("policy:focusarea_list"),
        world.focus_area.get_absolute_url(),
        reverse("policy:country_list"),
        world.country.get_absolute_url(),
        # Each payload calls alert(): every record with one in a text it is searched by is a hit.
        f"{reverse('policy:search')}?q=alert",
    ]
    return [parsed_page(client, url) for url in urls]


def feeds(client):
    urls = [
        reverse("policy:article_feed_rss"),
        reverse("policy:article_feed_atom"),
        reverse("policy:status_change_feed_rss"),
        reverse("policy:status_change_feed_atom"),
    ]
    return [part for url in urls for item in feed_items(client, url) for part in item if part]


def api_pages(client, world):
    """The JSON of each record, its browsable page, and the CSV of the lists."""
    pages = []
    for model, basename in API_BASENAMES.items():
        if model in API_PARTS:
            url = reverse(f"api:{basename}-list", kwargs={"commitment_slug": world.commitment.slug})
        else:
            url = reverse(f"api:{basename}-detail", kwargs={"slug": world.record_of(model).slug})
        json_data(client.get(url))
        pages.append(parsed_page(client, url, data={"format": "api"}))
    for basename in ("article", "commitment"):
        assert csv_rows(client.get(reverse(f"api:{basename}-list"), {"format": "csv"}))
    return pages


def admin_pages(client, world):
    """The dashboard; the list, form, history, diff and old version of each record."""
    pages = [parsed_page(client, reverse("admin:index"))]
    for model in {editing_admin(type(record)) for record in world.records()}:
        record = world.record_of(model)
        pages += [
            parsed_page(client, admin_url(model, "changelist")),
            parsed_page(client, admin_url(model, "change", record.pk)),
        ]
        if reversion.is_registered(model):
            latest = Version.objects.get_for_object(record).first()
            pages += [
                parsed_page(client, admin_url(model, "history", record.pk)),
                parsed_page(client, compare_url(record)),
                parsed_page(client, admin_url(model, "revision", record.pk, latest.pk)),
            ]
    # What a deletion would take with it names the related records.
    pages.append(parsed_page(client, admin_url(Article, "delete", world.article.pk)))
    # Autocomplete widgets make their options of this JSON.
    autocomplete = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "policy", "model_name": "commitment", "field_name": "parties"},
    )
    assert [option["text"] for option in json_data(autocomplete)["results"]] == [world.actor.name]
    return pages


def test_every_text_field_published_in_the_admin_is_shown_as_text_everywhere(
    publisher_client, client, markers
):
    payloads = {}
    for field in TEXT_FIELDS:
        template = COMBINED
        if isinstance(field, models.URLField):
            template = HOSTILE_WEB_URLS["script-in-query"]
        payload = markers.payload(template, label(field))
        # What a field refuses is the part of the tests of each field.
        if not refuses(field, payload):
            payloads[field] = payload
    quotes = [
        payload
        for field, payload in payloads.items()
        if field.name in ("source_quote", "text") and isinstance(field, models.TextField)
    ]
    world = build_world(PUBLISHED, quotes=quotes)
    body = field_of(Article, "body")
    payloads[body] = "\n\n".join([payloads[body], BODY, QUOTE, *quotes])
    changes_by_form = {}
    for field, payload in payloads.items():
        record = world.record_of(field.model)
        changes_by_form.setdefault(change_form_url(record), {})[(record, field.name)] = payload
    for url, changes in changes_by_form.items():
        (record, _), *_ = changes
        response = AdminForm(publisher_client, record).post(changes)
        assert response.status_code == 302, (url, admin_form_errors(response))
    for field, payload in payloads.items():
        assert stored(world.record_of(field.model), field.name) == payload, label(field)
    world.refresh()
    # A deleted record's last state is offered back, on the recover list and its form.
    deleted = FocusAreaFactory(name=markers.payload(COMBINED, "a deleted FocusArea.name"))
    response = publisher_client.post(admin_url(FocusArea, "delete", deleted.pk), {"post": "yes"})
    assert response.status_code == 302
    last_state = Version.objects.get_deleted(FocusArea).get()
    recovery = [
        parsed_page(publisher_client, admin_url(FocusArea, "recoverlist")),
        parsed_page(publisher_client, admin_url(FocusArea, "recover", last_state.pk)),
    ]
    sitemap = client.get(reverse("sitemap"))
    locations = [
        element.get("href") or element.text
        for element in ET.fromstring(sitemap.content).iter()  # noqa: S314 - our own sitemap
        if element.tag.endswith(("}loc", "}link"))
    ]

    seen_by_anyone = public_pages(client, world) + feeds(client) + api_pages(client, world)
    pages = seen_by_anyone + admin_pages(publisher_client, world) + recovery

    assert_no_problems(pages, markers)
    for field, payload in payloads.items():
        assert any(page.shows(payload) for page in pages), f"{label(field)} is shown nowhere"
    assert all(page.shows(deleted.name) for page in recovery)
    # The pages checked are where the public sees each field.
    shown_publicly = {
        markers.origins[marker]
        for page in seen_by_anyone
        for text in [*page.texts(), *page.data_values(), json.dumps(page.json_ld)]
        for marker in MARKER.findall(text)
    }
    assert {label(field) for field in payloads} - shown_publicly == set()
    assert locations
    assert all(location.startswith("http://testserver/") for location in locations)
    assert not MARKER.search(sitemap.content.decode())


# Every payload of the corpus, in a field of each kind that pages show

# Written through the API: (the world's record, field name).
CORPUS_FIELDS = [
    ("article", "title"),
    ("article", "summary"),
    ("commitment", "title"),
    ("commitment", "description"),
    ("focus_area", "name"),
    ("country", "name"),
    ("actor", "name"),
]


def write_corpus_payload(template, world, *, api, admin_client, markers):
    """Writes the payload into fields of each kind, as a Publisher; answers {label: value} of
    those the fields took, once checked that the others refused it.

    A paragraph of the article's body is quoted by the commitment; the article's authorship is
    written in the admin, as the API does not write authors.
    """
    saved = {}

    def check(field, value, response):
        if refuses(field, value):
            assert response.status_code in (200, 400), (label(field), response.status_code)
        else:
            assert response.status_code in (200, 201, 302), (label(field), response.content)
            saved[label(field)] = value

    for attribute, name in CORPUS_FIELDS:
        field = field_of(type(getattr(world, attribute)), name)
        value = markers.payload(template, label(field))
        check(field, value, write_through_api(api, world, field, value)[0])
    quoted = markers.payload(template, "a paragraph of Article.body quoted by SourceQuote.text")
    article_url = reverse("api:article-detail", kwargs={"slug": world.article.slug})
    body = "\n\n".join([BODY, QUOTE, quoted])
    assert api.patch(article_url, {"body": body}, format="json").status_code == 200
    quote_text = field_of(SourceQuote, "text")
    check(quote_text, quoted, write_through_api(api, world, quote_text, quoted)[0])
    note_field = field_of(StatusUpdate, "note")
    note = markers.payload(template, label(note_field))
    check(note_field, note, write_through_api(api, world, note_field, note)[0])
    affiliation_field = field_of(Authorship, "affiliation")
    affiliation = markers.payload(template, label(affiliation_field))
    response = AdminForm(admin_client, world.authorship).post(
        {(world.authorship, "affiliation"): affiliation}
    )
    check(affiliation_field, affiliation, response)
    world.refresh()
    return saved


@pytest.mark.parametrize("name", PAYLOADS)
def test_each_payload_is_shown_as_text_wherever_its_field_is_shown(
    name, publisher, publisher_client, client, markers
):
    world = build_world(PUBLISHED)
    api = token_client(publisher)
    saved = write_corpus_payload(
        PAYLOADS[name], world, api=api, admin_client=publisher_client, markers=markers
    )
    # Anyone may type one into the search and the filters, whose errors repeat it.
    typed = markers.payload(PAYLOADS[name], "what a visitor typed")
    search_url, commitment_list = reverse("policy:search"), reverse("policy:commitment_list")
    commitment_title = saved.get("Commitment.title")
    pages = {
        "article": parsed_page(client, world.article.get_absolute_url()),
        "commitment": parsed_page(client, world.commitment.get_absolute_url()),
        "home": parsed_page(client, reverse("policy:home")),
        "articles": parsed_page(client, reverse("policy:article_list")),
        "commitments": parsed_page(client, commitment_list),
        "countries": parsed_page(client, reverse("policy:country_list")),
        "focus area": parsed_page(client, world.focus_area.get_absolute_url()),
        "country": parsed_page(client, world.country.get_absolute_url()),
        "typed search": parsed_page(client, search_url, data={"q": typed}),
        "typed filters": parsed_page(
            client, commitment_list, data={"country": typed, "year": typed}
        ),
        "typed not found": parsed_page(
            client, f"{commitment_list}no-such-commitment/", status=404, data={"q": typed}
        ),
        "admin articles": parsed_page(publisher_client, admin_url(Article, "changelist")),
        "admin commitments": parsed_page(publisher_client, admin_url(Commitment, "changelist")),
        "admin diff": parsed_page(publisher_client, compare_url(world.commitment)),
        "browsable API": parsed_page(
            client,
            reverse("api:article-detail", kwargs={"slug": world.article.slug}),
            data={"format": "api"},
        ),
    }
    if commitment_title:
        marker = MARKER.search(commitment_title).group()
        pages["search"] = parsed_page(client, search_url, data={"q": marker})
    article_feed = feed_items(client, reverse("policy:article_feed_rss"))
    status_feed = feed_items(client, reverse("policy:status_change_feed_rss"))
    feed_parts = [part for item in article_feed + status_feed for part in item if part]

    assert_no_problems([*pages.values(), *feed_parts], markers)

    # Wherever a field is shown, its text is there whole: escaped once, not mangled, not run.
    article_page = pages["article"]
    (news_article,) = article_page.json_ld
    meta = article_page.meta()
    if title := saved.get("Article.title"):
        assert the_only(article_page.elements("h1")).text() == title
        assert meta["og:title"] == normalised(title)
        assert news_article["headline"] == title
        assert pages["articles"].shows(title)
        assert pages["admin articles"].shows(title)
        assert [item_title.text() for item_title, _ in article_feed] == [title]
        api_article = client.get(reverse("api:article-detail", kwargs={"slug": world.article.slug}))
        assert json_data(api_article)["title"] == title
    if summary := saved.get("Article.summary"):
        assert meta["description"] == meta["og:description"] == shorten(normalised(summary))
        assert news_article["description"] == shorten(summary)
        assert [description.text() for _, description in article_feed] == [summary]
    if publisher_name := saved.get("Actor.name"):
        assert news_article["publisher"]["name"] == publisher_name
    if affiliation := saved.get("Authorship.affiliation"):
        assert news_article["author"][0]["affiliation"]["name"] == affiliation
        assert article_page.shows(affiliation)
    quoted = saved["SourceQuote.text"]
    assert quoted in [mark.text() for mark in article_page.elements("mark")]
    assert pages["commitment"].shows(quoted)
    note = saved["StatusUpdate.note"]
    latest_title, latest_description = status_feed[0]
    assert pages["commitment"].shows(note)
    assert latest_description.text() == note
    if commitment_title:
        assert the_only(pages["commitment"].elements("h1")).text() == commitment_title
        for page in ("home", "commitments", "admin commitments"):
            assert pages[page].shows(commitment_title), page
        assert latest_title.text() == f"{commitment_title}: Kept"
        # PostgreSQL finds the other markers too, as nearly the same word.
        hit = the_only(
            link
            for link in pages["search"].elements("a", **{"class": "search-result__title"})
            if link.attrs["href"] == world.commitment.get_absolute_url()
        )
        assert hit.text() == commitment_title
        assert {mark.text() for mark in hit.iter() if mark.tag == "mark"} == {marker}
        csv_export = client.get(reverse("api:commitment-list"), {"format": "csv"})
        # A spreadsheet shows it as text, whatever it starts with.
        assert [row["title"] for row in csv_rows(csv_export)] == [escape_formula(commitment_title)]
    if description := saved.get("Commitment.description"):
        assert pages["commitment"].shows(description)
    if focus_area_name := saved.get("FocusArea.name"):
        assert pages["home"].shows(focus_area_name)
        assert the_only(pages["focus area"].elements("h1")).text() == focus_area_name
    if country_name := saved.get("Country.name"):
        assert pages["countries"].shows(country_name)
        assert the_only(pages["country"].elements("h1")).text() == country_name
    search_box = the_only(pages["typed search"].elements("input", id="search-query"))
    assert search_box.attrs["value"] == normalised(typed)[: int(search_box.attrs["maxlength"])]


# The admin's other ways in: import from a file, and records added from a popup


def import_file(rows, name):
    content = io.StringIO()
    writer = csv.DictWriter(content, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, content.getvalue().encode(), "text/csv")


def test_an_import_shows_the_file_its_name_and_its_errors_as_text(editor_client, markers):
    build_world(DRAFT)
    row = {
        "slug": "imported",
        "title": markers.payload(COMBINED, "an imported title"),
        "description": markers.payload(PAYLOADS["very-long"], "an imported description"),
        "kind": "training",
        "geographic_scope": "countries",
        "publication_status": "draft",
    }
    unknown_country = markers.payload(COMBINED, "an imported country")
    # The file's name goes into the history; an upload's name keeps no slash or double quote.
    file_name = markers.payload(PAYLOADS["single-quote-breakout"], "the file name") + ".csv"

    def upload(rows):
        return editor_client.post(
            admin_url(Commitment, "import"),
            {"resource": "0", "format": "0", "import_file": import_file(rows, file_name)},
        )

    refused = upload([row | {"countries": unknown_country}])
    preview = upload([row])
    assert "confirm_form" not in refused.context
    confirmed = editor_client.post(
        admin_url(Commitment, "process_import"), preview.context["confirm_form"].initial
    )
    assert confirmed.status_code == 302
    commitment = Commitment.objects.get(slug="imported")
    assert commitment.title == row["title"]
    history = parsed_page(editor_client, admin_url(Commitment, "history", commitment.pk))
    pages = [
        Page(refused.content.decode(), "the refused import"),
        Page(preview.content.decode(), "the import's preview"),
        history,
        parsed_page(editor_client, reverse("admin:index")),
    ]

    assert_no_problems(pages, markers)
    assert pages[0].shows(unknown_country)
    assert pages[1].shows(row["title"])
    assert history.shows(file_name)


def test_a_record_added_from_a_popup_is_handed_to_its_form_as_data(publisher_client, markers):
    name = markers.payload(COMBINED, "an actor added in a popup")
    response = publisher_client.post(
        f"{admin_url(Actor, 'add')}?_popup=1&_to_field=id",
        {"name": name, "slug": "added-in-a-popup", "kind": "government", "_popup": "1"},
    )
    assert response.status_code == 200
    page = Page(response.content.decode(), "the popup's answer")
    assert_no_problems([page], markers)
    # The admin's popup_response.js reads the JSON, and makes a text <option> of it.
    script = the_only(
        [element for element in page.elements("script") if "data-popup-response" in element.attrs]
    )
    assert json.loads(script.attrs["data-popup-response"])["obj"] == name


# In Chromium: what the browser builds, scripts included, is what the parse above expects

# Run in the page: the elements, attributes, scripts and links the payloads made, if any.
FIND_PAYLOAD_MARKUP = r"""() => {
    const marker = /xss\d{4}x/;
    const scriptScheme = /^(javascript|vbscript|data(?!:image\/)):/i;
    const found = [];
    for (const element of document.querySelectorAll("*")) {
        const tag = element.localName;
        if (marker.test(tag)) found.push(`an element <${tag}>`);
        for (const { name, value } of element.attributes) {
            const runs = /^on|^(style|srcdoc|formaction)$/.test(name);
            const link = /^(href|src|action|formaction|xlink:href|data)$/.test(name);
            if (marker.test(name) || (runs && marker.test(value))) {
                found.push(`<${tag} ${name}="${value}">`);
            } else if (link && scriptScheme.test(value.replace(/[\x00-\x20\x7f]/g, ""))) {
                found.push(`a link that runs script: <${tag} ${name}="${value}">`);
            }
        }
        const json = element.type === "application/ld+json";
        const isCode = tag === "style" || (tag === "script" && !json);
        if (isCode && marker.test(element.textContent)) found.push(`code in <${tag}>`);
    }
    for (const script of document.querySelectorAll('script[type="application/ld+json"]')) {
        try { JSON.parse(script.textContent); } catch { found.push("JSON-LD that does not parse"); }
    }
    return found;
}"""
# The Content-Security-Policy would refuse an injected script; its reports say one was there.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => reportViolation(
    `${event.documentURI}: ${event.effectiveDirective} refused ${event.sample}`
));
"""


@pytest.mark.browser
def test_chromium_shows_the_payloads_as_text_and_runs_none(
    transactional_db, live_server, context, django_user_model, markers
):
    world = build_world(PUBLISHED)
    texts = {}
    for (model, name), payload in {
        (Article, "title"): "script-close",
        (Article, "summary"): "attribute-breakouts",
        (Commitment, "title"): "double-quote-breakout",
        (Commitment, "description"): "svg-script",
        (StatusUpdate, "note"): "right-to-left-override",
        (FocusArea, "name"): "single-quote-breakout",
        (Country, "name"): "javascript-link",
        (Actor, "name"): "css-javascript-url",
        (Person, "name"): "iframe-srcdoc",
        (Authorship, "affiliation"): "unicode-lookalikes",
        (Keyword, "name"): "comments-and-cdata",
    }.items():
        record = world.record_of(model)
        texts[model, name] = markers.payload(PAYLOADS[payload], f"{model.__name__}.{name}")
        model.objects.filter(pk=record.pk).update(**{name: texts[model, name]})
    world.refresh()
    superuser = django_user_model.objects.create_superuser("root", password="x")
    session = Client()
    session.force_login(superuser)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    refused, dialogs = [], []
    context.expose_function("reportViolation", lambda violation: refused.append(violation))
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    commitment_title = texts[Commitment, "title"]
    found = {}

    def visit(path):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        found[path] = page.evaluate(FIND_PAYLOAD_MARKUP)

    visit(world.article.get_absolute_url())
    expect(page.locator("h1")).to_have_text(texts[Article, "title"])
    visit(world.commitment.get_absolute_url())
    expect(page.locator("h1")).to_have_text(commitment_title)
    visit(reverse("policy:home"))
    visit(f"{reverse('policy:search')}?q={MARKER.search(commitment_title).group()}")
    commitment_hit = f'.search-result__title[href="{world.commitment.get_absolute_url()}"]'
    expect(page.locator(commitment_hit)).to_have_text(commitment_title)
    visit(reverse("policy:country_list"))
    # The admin's autocomplete makes its options of JSON in the browser.
    visit(admin_url(Commitment, "change", world.commitment.pk))
    page.locator(".field-parties .select2-selection").click()
    expect(page.locator(".select2-results__option").first).to_have_text(texts[Actor, "name"])
    found["the autocomplete's options"] = page.evaluate(FIND_PAYLOAD_MARKUP)

    assert {path: problems for path, problems in found.items() if problems} == {}
    assert dialogs == []
    assert refused == []
