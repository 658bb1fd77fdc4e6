"""Sharing and discovery: <head> metadata, JSON-LD, sitemap.xml, robots.txt and feeds."""

import datetime
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, override

from policy.models import Article, PublicationStatus
from policy.sitemaps import TranslatedSitemap
from tests.factories import (
    ArticleFactory,
    CommitmentFactory,
    CountryFactory,
    FocusAreaFactory,
    StatusUpdateFactory,
    image_upload,
)

pytestmark = pytest.mark.django_db

DRAFT = PublicationStatus.DRAFT
SEED_ARTICLE = "wang-huiyao-china-and-latin-america-partners-in-a-shared-new-era"
SEED_ARTICLE_TITLE = "Wang Huiyao: China and Latin America: Partners in a shared new era"
BREAKOUT_TITLE = "</script><script>alert(1)</script>"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ATOM = "{http://www.w3.org/2005/Atom}"
LANGUAGE_PREFIXES = ["en", "es", "pt-br", "zh-hans"]


class Head(HTMLParser):
    """The <title>, <meta>, <link> and JSON-LD of a page's <head>, as a browser would parse them."""

    def __init__(self, text):
        super().__init__()
        self.title = ""
        self.meta = {}
        self.links = []
        self.json_ld = []
        self._in = None
        self.feed(text[: text.index("</head>")])

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            self.meta.setdefault(attrs.get("property") or attrs.get("name"), attrs["content"])
        elif tag == "link":
            self.links.append(attrs)
        elif tag == "title" or (tag == "script" and attrs.get("type") == "application/ld+json"):
            self._in = tag
            if tag == "script":
                self.json_ld.append("")

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.json_ld[-1] += data

    def link(self, rel, **attrs):
        return [
            link["href"]
            for link in self.links
            if link.get("rel") == rel and all(link.get(k) == v for k, v in attrs.items())
        ]

    def structured_data(self):
        return [json.loads(text) for text in self.json_ld]


def head(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return Head(response.text)


def parse_xml(response):
    assert response.status_code == 200
    # The site's own output, which the test means to check is well-formed XML.
    return ET.fromstring(response.content)  # noqa: S314


def feed_items(response):
    """(title, link, description) of each item of an RSS or Atom feed."""
    root = parse_xml(response)
    if root.tag == "rss":
        return [
            (item.findtext("title"), item.findtext("link"), item.findtext("description"))
            for item in root.iter("item")
        ]
    return [
        (
            entry.findtext(f"{ATOM}title"),
            entry.find(f"{ATOM}link").get("href"),
            entry.findtext(f"{ATOM}summary"),
        )
        for entry in root.iter(f"{ATOM}entry")
    ]


def sitemap_pages(client):
    """The pages of the sitemap's sections, in the order its index names them."""
    index = parse_xml(client.get("/sitemap.xml"))
    return [
        client.get(entry.findtext(f"{SITEMAP}loc")) for entry in index.iter(f"{SITEMAP}sitemap")
    ]


def sitemap_urls(client):
    urls = {}
    for page in sitemap_pages(client):
        for url in parse_xml(page).iter(f"{SITEMAP}url"):
            location = url.findtext(f"{SITEMAP}loc")
            assert location not in urls, f"{location} is listed twice"
            urls[location] = {
                "lastmod": url.findtext(f"{SITEMAP}lastmod"),
                "alternates": {
                    link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")
                },
            }
    return urls


def sitemap_text(client):
    return client.get("/sitemap.xml").text + "".join(page.text for page in sitemap_pages(client))


def unseen_records_of_every_kind():
    """A draft, a scheduled and an expired record of each kind the public must not see."""
    now = timezone.now()
    hidden = [
        {"publication_status": DRAFT},
        {"publish_at": now + datetime.timedelta(days=1)},
        {
            "publish_at": now - datetime.timedelta(days=2),
            "unpublish_at": now - datetime.timedelta(days=1),
        },
    ]
    records = []
    for number, state in enumerate(hidden):
        records += [
            ArticleFactory(title=f"Hidden article {number}", slug=f"hidden-{number}", **state),
            CommitmentFactory(title=f"Hidden pledge {number}", slug=f"hidden-{number}", **state),
            FocusAreaFactory(name=f"Hidden area {number}", slug=f"hidden-{number}", **state),
        ]
    return records


@pytest.fixture(autouse=True)
def in_english():
    """A request leaves its language active; each test starts from the default language."""
    with override("en"):
        yield


@pytest.fixture
def seed_pages(seed):
    article = Article.objects.get(slug=SEED_ARTICLE)
    return [
        reverse("policy:home"),
        reverse("policy:article_list"),
        reverse("policy:commitment_list"),
        reverse("policy:focusarea_list"),
        reverse("policy:country_list"),
        article.get_absolute_url(),
        reverse("policy:commitment_detail", args=["beijing-declaration"]),
        reverse("policy:commitment_detail", args=["credit-line-66-billion-yuan"]),
        reverse("policy:focusarea_detail", args=["digital-economy-and-ai"]),
        reverse("policy:country_detail", args=["brazil"]),
        reverse("policy:country_detail", args=["peru"]),
    ]


@pytest.fixture
def previewing_staff_client(client, django_user_model):
    staff = django_user_model.objects.create_user("stella", password="x", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_article", "view_commitment", "view_focusarea"]
        )
    )
    client.force_login(staff)
    client.post(reverse("policy:preview"), {"preview": "on", "next": "/"})
    return client


# Titles, descriptions and canonical URLs


def test_every_page_has_its_own_title_ending_with_the_site_name(client, seed_pages):
    titles = [head(client, url).title for url in seed_pages]

    assert all(title.endswith(" · Puente") for title in titles)
    assert len(set(titles)) == len(titles), titles
    assert f"{SEED_ARTICLE_TITLE} · Puente" in titles


def test_every_page_has_a_short_description_and_an_absolute_canonical_url(client, seed_pages):
    for url in seed_pages:
        page = head(client, url)

        assert 0 < len(page.meta["description"]) <= 160, url
        assert page.link("canonical") == [f"http://testserver{url}"]


def test_list_pages_describe_themselves_rather_than_the_site(client, seed_pages):
    descriptions = [head(client, url).meta["description"] for url in seed_pages[:5]]

    assert len(set(descriptions)) == len(descriptions)


def test_a_long_description_is_cut_at_a_word_with_an_ellipsis(client):
    article = ArticleFactory(summary="Pledges " * 40)

    description = head(client, article.get_absolute_url()).meta["description"]

    assert len(description) <= 160
    assert description.endswith("Pledges…")


def test_article_description_is_its_summary(client):
    article = ArticleFactory(summary="Ten thousand training places by 2027.")

    page = head(client, article.get_absolute_url())

    assert page.meta["description"] == "Ten thousand training places by 2027."
    assert page.meta["og:description"] == "Ten thousand training places by 2027."


def test_record_page_canonical_url_drops_every_query_parameter(client):
    article = ArticleFactory()
    url = article.get_absolute_url()

    page = head(client, f"{url}?utm_source=newsletter&q=pledge")

    assert page.link("canonical") == [f"http://testserver{url}"]


def test_list_canonical_url_keeps_filters_and_page_but_drops_empty_and_tracking_parameters(
    client,
):
    CommitmentFactory.create_batch(25, kind="training")
    url = reverse("policy:commitment_list")

    page = head(client, f"{url}?status=&utm_campaign=x&page=2&kind=training&fbclid=y")

    assert page.link("canonical") == [f"http://testserver{url}?kind=training&page=2"]
    assert page.meta["og:url"] == f"http://testserver{url}?kind=training&page=2"


def test_first_page_of_a_list_is_canonical_without_a_page_number(client):
    url = reverse("policy:commitment_list")

    assert head(client, f"{url}?page=1").link("canonical") == [f"http://testserver{url}"]


def test_later_pages_of_a_list_say_their_number_in_the_title(client):
    ArticleFactory.create_batch(25)
    url = reverse("policy:article_list")

    assert head(client, url).title == "Articles · Puente"
    assert head(client, f"{url}?page=2").title == "Articles, page 2 · Puente"


def test_canonical_url_and_open_graph_locale_follow_the_language_of_the_page(client):
    article = ArticleFactory()
    with override("pt-br"):
        url = article.get_absolute_url()

    page = head(client, url)

    assert url.startswith("/pt-br/")
    assert page.link("canonical") == [f"http://testserver{url}"]
    assert page.meta["og:locale"] == "pt_BR"


# Open Graph and Twitter cards


def test_article_page_is_shared_as_an_article_with_a_summary_card(client, seed):
    url = reverse("policy:article_detail", args=[SEED_ARTICLE])

    page = head(client, url)

    assert page.meta["og:type"] == "article"
    assert page.meta["og:title"] == SEED_ARTICLE_TITLE
    assert page.meta["og:description"] == page.meta["description"]
    assert page.meta["og:url"] == f"http://testserver{url}"
    assert page.meta["og:site_name"] == "Puente"
    assert page.meta["og:locale"] == "en_GB"
    assert page.meta["article:published_time"] == "2025-11-05"
    assert page.meta["twitter:card"] == "summary"
    assert "og:image" not in page.meta


def test_article_with_an_image_is_shared_with_its_full_rendition_as_a_large_card(client):
    article = ArticleFactory(image=image_upload(size=(1600, 900)), image_alt="Port of Chancay")

    page = head(client, article.get_absolute_url())

    assert page.meta["og:image"].startswith("http://testserver/media/renditions/")
    assert page.meta["og:image"].endswith("-full.webp")
    assert (page.meta["og:image:width"], page.meta["og:image:height"]) == ("1200", "675")
    assert page.meta["og:image:alt"] == "Port of Chancay"
    assert page.meta["twitter:card"] == "summary_large_image"


def test_focus_area_with_an_image_is_shared_with_it(client):
    area = FocusAreaFactory(image=image_upload(size=(800, 400)), image_alt="Wind turbines")

    page = head(client, area.get_absolute_url())

    assert page.meta["og:type"] == "website"
    assert page.meta["og:image"].endswith("-full.webp")
    assert page.meta["twitter:card"] == "summary_large_image"


def test_home_page_is_shared_as_the_website(client):
    page = head(client, reverse("policy:home"))

    assert page.meta["og:type"] == "website"
    assert page.meta["og:title"] == "China–Latin America cooperation, tracked"
    assert page.meta["twitter:card"] == "summary"


# JSON-LD


def test_seed_article_is_described_as_a_news_article(client, seed):
    url = reverse("policy:article_detail", args=[SEED_ARTICLE])
    article = Article.objects.get(slug=SEED_ARTICLE)
    authorship = article.authorships.get()

    [data] = head(client, url).structured_data()

    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == SEED_ARTICLE_TITLE
    assert data["datePublished"] == "2025-11-05"
    assert datetime.datetime.fromisoformat(data["dateModified"]) == article.updated_at
    assert data["inLanguage"] == "en"
    assert data["url"] == f"http://testserver{url}"
    assert data["mainEntityOfPage"] == {"@type": "WebPage", "@id": f"http://testserver{url}"}
    assert data["author"] == [
        {
            "@type": "Person",
            "name": "Wang Huiyao",
            "affiliation": {"@type": "Organization", "name": authorship.affiliation},
        }
    ]
    assert data["publisher"] == {"@type": "Organization", "name": "CGTN"}
    assert "image" not in data
    assert "isBasedOn" not in data


def test_news_article_names_its_source_and_image_when_it_has_them(client):
    article = ArticleFactory(
        source_url="https://example.org/original",
        image=image_upload(size=(600, 400)),
        image_alt="A harbour",
    )

    [data] = head(client, article.get_absolute_url()).structured_data()

    assert data["isBasedOn"] == "https://example.org/original"
    assert data["image"]["url"].endswith("-full.webp")
    assert (data["image"]["width"], data["image"]["height"]) == (600, 400)


def test_a_title_that_closes_the_script_stays_inside_the_json_ld(client):
    article = ArticleFactory(title=BREAKOUT_TITLE, summary="Ampersands & <angle> brackets.")

    response = client.get(article.get_absolute_url())
    [data] = Head(response.text).structured_data()

    assert data["headline"] == BREAKOUT_TITLE
    assert data["description"] == "Ampersands & <angle> brackets."
    assert "<script>alert(1)" not in response.text


def test_home_page_is_described_as_a_website(client):
    [data] = head(client, reverse("policy:home")).structured_data()

    assert data == {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": "Puente",
        "url": "http://testserver/en/",
        "inLanguage": "en",
    }


def test_other_pages_carry_no_json_ld(client, seed_pages):
    for url in seed_pages[1:5]:
        assert head(client, url).structured_data() == []


# sitemap.xml and robots.txt


def test_sitemap_lists_every_published_record_and_page_in_every_language(client, seed):
    urls = sitemap_urls(client)

    for prefix in LANGUAGE_PREFIXES:
        assert f"http://testserver/{prefix}/" in urls
        assert f"http://testserver/{prefix}/articles/{SEED_ARTICLE}/" in urls
        assert f"http://testserver/{prefix}/commitments/beijing-declaration/" in urls
        assert f"http://testserver/{prefix}/focus-areas/digital-economy-and-ai/" in urls
        assert f"http://testserver/{prefix}/countries/brazil/" in urls
        assert f"http://testserver/{prefix}/countries/" in urls


def test_sitemap_names_each_language_version_and_the_default_one(client):
    article = ArticleFactory(slug="port")
    urls = sitemap_urls(client)

    entry = urls["http://testserver/es/articles/port/"]

    assert entry["alternates"] == {
        "en": "http://testserver/en/articles/port/",
        "es": "http://testserver/es/articles/port/",
        "pt-br": "http://testserver/pt-br/articles/port/",
        "zh-hans": "http://testserver/zh-hans/articles/port/",
        "x-default": "http://testserver/en/articles/port/",
    }
    assert entry["lastmod"] == article.updated_at.date().isoformat()


def test_sitemap_finds_each_records_address_once_per_language(client, monkeypatch):
    ArticleFactory.create_batch(3)
    asked = []
    address = Article.get_absolute_url
    monkeypatch.setattr(
        Article,
        "get_absolute_url",
        lambda article: asked.append((article.pk, get_language())) or address(article),
    )

    urls = parse_xml(client.get("/sitemap-articles.xml")).iter(f"{SITEMAP}url")

    # Three articles in four languages, each with five alternates.
    assert len(list(urls)) == 12
    assert len(asked) == len(set(asked)) == 12


def test_sitemap_never_lists_a_draft_a_scheduled_or_an_expired_record(client):
    unseen_records_of_every_kind()
    ArticleFactory(slug="shown")

    text = sitemap_text(client)

    assert "/articles/shown/" in text
    assert "hidden-" not in text


def test_sitemap_ignores_the_preview_mode_of_staff(previewing_staff_client):
    unseen_records_of_every_kind()

    assert "hidden-" not in sitemap_text(previewing_staff_client)


def test_sitemap_is_an_index_of_sections_in_pages_of_at_most_the_limit(client, monkeypatch):
    monkeypatch.setattr(TranslatedSitemap, "limit", 6)
    ArticleFactory.create_batch(4)

    index = parse_xml(client.get("/sitemap.xml"))
    sections = [entry.findtext(f"{SITEMAP}loc") for entry in index.iter(f"{SITEMAP}sitemap")]
    article_pages = [url for url in sections if "/sitemap-articles.xml" in url]
    urls = [
        url.findtext(f"{SITEMAP}loc")
        for page in article_pages
        for url in parse_xml(client.get(page)).iter(f"{SITEMAP}url")
    ]

    # Four articles in four languages: sixteen URLs, in pages of six.
    assert article_pages == [
        "http://testserver/sitemap-articles.xml",
        "http://testserver/sitemap-articles.xml?p=2",
        "http://testserver/sitemap-articles.xml?p=3",
    ]
    assert len(urls) == len(set(urls)) == 16
    assert {url.split("/")[3] for url in urls} == set(LANGUAGE_PREFIXES)
    assert "http://testserver/sitemap-pages.xml" in sections


def test_sitemap_index_gives_each_section_its_latest_change(client):
    older = ArticleFactory()
    newer = ArticleFactory()
    Article.objects.filter(pk=older.pk).update(updated_at=newer.updated_at - datetime.timedelta(1))

    index = parse_xml(client.get("/sitemap.xml"))

    lastmod = {
        entry.findtext(f"{SITEMAP}loc"): entry.findtext(f"{SITEMAP}lastmod")
        for entry in index.iter(f"{SITEMAP}sitemap")
    }
    assert lastmod["http://testserver/sitemap-articles.xml"] == newer.updated_at.isoformat()


def test_robots_txt_allows_the_site_but_not_the_admin_or_preview_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    lines = response.text.splitlines()

    assert response["Content-Type"].startswith("text/plain")
    assert lines[:3] == ["User-agent: *", "Allow: /", "Disallow: /admin/"]
    for prefix in LANGUAGE_PREFIXES:
        assert f"Disallow: /{prefix}/preview/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


# Feeds


@pytest.mark.parametrize("url_name", ["policy:article_feed_rss", "policy:article_feed_atom"])
def test_article_feeds_are_xml_listing_published_articles_only(client, url_name):
    ArticleFactory(title="Port of Chancay opens", summary="A new port & a new route.")
    unseen_records_of_every_kind()

    items = feed_items(client.get(reverse(url_name)))

    assert [title for title, _, _ in items] == ["Port of Chancay opens"]
    [(_, link, description)] = items
    assert link.startswith("http://testserver/en/articles/")
    assert "A new port &amp; a new route." in description


@pytest.mark.parametrize(
    "url_name", ["policy:status_change_feed_rss", "policy:status_change_feed_atom"]
)
def test_status_change_feeds_list_updates_of_published_commitments_only(client, url_name):
    update = StatusUpdateFactory(
        commitment=CommitmentFactory(title="3,500 scholarships", slug="scholarships"),
        status="kept",
        note="All scholarships were awarded.",
    )
    for commitment in unseen_records_of_every_kind()[1::3]:
        StatusUpdateFactory(commitment=commitment, note="Hidden note.")

    items = feed_items(client.get(reverse(url_name)))

    assert items == [
        (
            "3,500 scholarships: Kept",
            f"http://testserver/en/commitments/scholarships/#status-update-{update.pk}",
            "All scholarships were awarded.",
        )
    ]


def test_status_change_link_leads_to_the_entry_of_the_commitment_timeline(client):
    update = StatusUpdateFactory()
    [(_, link, _)] = feed_items(client.get(reverse("policy:status_change_feed_rss")))
    page, anchor = link.split("#")

    assert f'id="{anchor}"' in client.get(page).text
    assert anchor == f"status-update-{update.pk}"


def test_seed_feeds_list_the_seed_article_and_status_changes(client, seed):
    articles = feed_items(client.get(reverse("policy:article_feed_atom")))
    changes = feed_items(client.get(reverse("policy:status_change_feed_atom")))

    assert [title for title, _, _ in articles] == [SEED_ARTICLE_TITLE]
    assert {title for title, _, _ in changes} == {
        "China-CELAC Joint Action Plan for Cooperation in Key Areas (2025-2027): In the works",
        "Visa-free travel for citizens of Brazil, Argentina, Peru, Chile and Uruguay: Kept",
    }


def test_a_scheduled_article_joins_the_feed_when_its_time_comes(client):
    article = ArticleFactory(
        title="Scheduled", publish_at=timezone.now() + datetime.timedelta(hours=1)
    )
    feed = reverse("policy:article_feed_rss")
    before = feed_items(client.get(feed))

    Article.objects.filter(pk=article.pk).update(
        publish_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    after = feed_items(client.get(feed))

    assert before == []
    assert [title for title, _, _ in after] == ["Scheduled"]


def test_feeds_ignore_the_preview_mode_of_staff(previewing_staff_client):
    for commitment in unseen_records_of_every_kind()[1::3]:
        StatusUpdateFactory(commitment=commitment)

    for url_name in ["policy:article_feed_rss", "policy:status_change_feed_atom"]:
        assert feed_items(previewing_staff_client.get(reverse(url_name))) == []


def test_feeds_are_in_the_language_of_their_address(client):
    with override("es"):
        rss, atom = reverse("policy:article_feed_rss"), reverse("policy:article_feed_atom")

    assert parse_xml(client.get(rss)).findtext("channel/language") == "es"
    assert parse_xml(client.get(atom)).get("{http://www.w3.org/XML/1998/namespace}lang") == "es"


def test_every_page_advertises_the_rss_and_atom_feeds(client, seed_pages):
    for url in seed_pages:
        page = head(client, url)
        rss = page.link("alternate", type="application/rss+xml")
        atom = page.link("alternate", type="application/atom+xml")

        assert rss == ["/en/feeds/articles.rss", "/en/feeds/status-changes.rss"]
        assert atom == ["/en/feeds/articles.atom", "/en/feeds/status-changes.atom"]
    for feed in rss + atom:
        assert client.get(feed).status_code == 200


def test_country_page_describes_the_country(client):
    country = CountryFactory(name="Uruguay", slug="uruguay", iso_code="UY")

    description = head(client, country.get_absolute_url()).meta["description"]

    assert "Uruguay (South America)" in description
