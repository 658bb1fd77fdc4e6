import re
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import translation
from pytest_django.asserts import assertContains

from tests.factories import ArticleFactory, CommitmentFactory

pytestmark = pytest.mark.django_db


class Language(NamedTuple):
    code: str  # Django's, as in the URL prefix
    tag: str  # BCP 47, as in lang and hreflang
    name: str  # in the language itself
    commitments: str  # the navigation label
    current_status: str  # a label of the commitment page


LANGUAGES = [
    Language("en", "en", "English", "Commitments", "Current status"),
    Language("es", "es", "Español", "Compromisos", "Estado actual"),
    Language("pt-br", "pt-BR", "Português (Brasil)", "Compromissos", "Situação atual"),
    Language("zh-hans", "zh-Hans", "简体中文", "承诺", "当前状态"),
]
CATALOGUES = sorted(Path(settings.LOCALE_PATHS[0]).glob("*/LC_MESSAGES/django.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{\{.*?\}\}")


def url_in(language, name, *args):
    with translation.override(language):
        return reverse(name, args=args)


def test_every_language_of_the_settings_has_a_case_here():
    assert [language.code for language in LANGUAGES] == [code for code, _ in settings.LANGUAGES]


# Each language under its own prefix


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_home_page_is_served_in_the_language_of_its_prefix(client, language):
    response = client.get(f"/{language.code}/")

    assert response.status_code == 200
    assert f'<html lang="{language.tag}">' in response.text
    assertContains(
        response, f'<a href="/{language.code}/commitments/">{language.commitments}</a>', html=True
    )


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_commitment_page_is_served_in_the_language_of_its_prefix(client, language):
    commitment = CommitmentFactory(slug="scholarships")

    response = client.get(f"/{language.code}/commitments/scholarships/")

    assert response.status_code == 200
    assert f'<html lang="{language.tag}">' in response.text
    assert language.current_status in response.text
    assert commitment.title in response.text


def test_prefix_decides_the_language_whatever_the_browser_asks_for(client):
    response = client.get("/es/commitments/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    assert '<html lang="es">' in response.text
    assert "Filtrar compromisos" in response.text


def test_article_title_and_body_stay_in_their_source_language_on_the_spanish_page(client):
    article = ArticleFactory(
        title="China pledges 3,500 scholarships",
        body="The pledge was made in Beijing.\n\nIt covers three years.",
    )

    response = client.get(url_in("es", "policy:article_detail", article.slug))

    assert '<html lang="es">' in response.text
    assert "Ir al contenido principal" in response.text
    assert '<span lang="en">China pledges 3,500 scholarships</span>' in response.text
    assert "<p>The pledge was made in Beijing.</p>" in response.text


# The address without a language


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("es", "/es/"),
        ("es-MX,es;q=0.9,en;q=0.5", "/es/"),
        ("pt-BR,pt;q=0.9", "/pt-br/"),
        ("zh-CN,zh;q=0.9", "/zh-hans/"),
        ("fr-FR,fr;q=0.9", "/en/"),
    ],
)
def test_root_redirects_to_the_language_the_browser_asks_for(client, accept_language, expected):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=accept_language)

    assert response.status_code == 302
    assert response["Location"] == expected


def test_root_redirects_to_english_when_the_browser_names_no_language(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/en/"


def test_address_without_a_language_keeps_its_path_and_query_when_redirected(client):
    response = client.get("/commitments/?kind=training", HTTP_ACCEPT_LANGUAGE="es")

    assert response["Location"] == "/es/commitments/?kind=training"


# The language switcher


def test_switcher_links_to_the_same_page_and_query_in_every_language(client):
    response = client.get("/es/commitments/?kind=training")

    assertContains(response, '<nav class="language-switcher" aria-label="Idioma">')
    for language in LANGUAGES:
        current = ' aria-current="true"' if language.code == "es" else ""
        link = (
            f'<a href="/{language.code}/commitments/?kind=training" lang="{language.tag}" '
            f'hreflang="{language.tag}"{current}>{language.name}</a>'
        )
        assertContains(response, link, count=1, html=True)


def test_switcher_on_a_record_page_links_to_that_record_in_every_language(client):
    CommitmentFactory(slug="credit-line")

    response = client.get("/zh-hans/commitments/credit-line/")

    assertContains(
        response,
        '<a href="/pt-br/commitments/credit-line/" lang="pt-BR" hreflang="pt-BR">'
        "Português (Brasil)</a>",
        html=True,
    )
    assertContains(
        response,
        '<a href="/zh-hans/commitments/credit-line/" lang="zh-Hans" hreflang="zh-Hans" '
        'aria-current="true">简体中文</a>',
        html=True,
    )


def test_switcher_keeps_the_path_prefix_the_site_is_served_under(client):
    # Django's WSGI handler sets the prefix from SCRIPT_NAME; the test client does not.
    set_script_prefix("/puente/")
    try:
        response = client.get("/es/commitments/?kind=training", SCRIPT_NAME="/puente")
    finally:
        clear_script_prefix()

    for language in LANGUAGES:
        assertContains(
            response, f'<a href="/puente/{language.code}/commitments/?kind=training"', count=1
        )


def test_switcher_on_a_missing_page_offers_the_home_page_in_every_language(client):
    response = client.get("/es/no-such-page/")

    assert response.status_code == 404
    assert "Página no encontrada" in response.text
    for language in LANGUAGES:
        link = f'<a href="/{language.code}/" lang="{language.tag}" hreflang="{language.tag}"'
        assertContains(response, link, status_code=404)


# Alternates for search engines


def test_head_lists_the_page_in_every_language_and_english_as_default(client):
    response = client.get("/pt-br/articles/")

    head = response.text.split("</head>")[0]
    alternates = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', head)
    assert alternates == [
        ("en", "http://testserver/en/articles/"),
        ("x-default", "http://testserver/en/articles/"),
        ("es", "http://testserver/es/articles/"),
        ("pt-BR", "http://testserver/pt-br/articles/"),
        ("zh-Hans", "http://testserver/zh-hans/articles/"),
    ]


def test_page_not_found_lists_no_alternates(client):
    response = client.get("/en/no-such-page/")

    assert response.status_code == 404
    assert '<link rel="alternate" hreflang' not in response.text


# Translation catalogues


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parts[-3])
def test_catalogue_has_no_untranslated_or_fuzzy_entries(path):
    with path.open("rb") as po:
        catalogue = read_po(po)

    assert not catalogue.fuzzy
    problems = [
        message.id
        for message in catalogue
        if message.id
        and (
            message.fuzzy
            or not all(message.string if message.pluralizable else [message.string])
            or (message.pluralizable and len(message.string) != catalogue.num_plurals)
        )
    ]
    assert problems == []


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parts[-3])
def test_catalogue_translations_keep_the_placeholders_of_their_source(path):
    with path.open("rb") as po:
        catalogue = read_po(po)

    mismatches = []
    for message in catalogue:
        if not message.id:
            continue
        if message.pluralizable:
            # Every form keeps the names of the plural source, which the forms share.
            pairs = [(message.id[1], form) for form in message.string]
        else:
            pairs = [(message.id, message.string)]
        mismatches += [
            (source, translated)
            for source, translated in pairs
            if Counter(PLACEHOLDER.findall(source)) != Counter(PLACEHOLDER.findall(translated))
        ]
    assert mismatches == []
    assert [error for _, errors in catalogue.check() for error in errors] == []


def test_every_language_but_english_has_a_catalogue():
    languages = {path.parts[-3] for path in CATALOGUES}

    assert languages == {
        translation.to_locale(code) for code, _ in settings.LANGUAGES if code != "en"
    }


@pytest.mark.parametrize(
    ("code", "expected"),
    [("es", "Aún sin evaluar"), ("pt-br", "Ainda não avaliado"), ("zh-hans", "尚未评估")],
)
def test_compiled_catalogue_translates_the_interface(code, expected):
    with translation.override(code):
        translated = translation.gettext("Not yet rated")

    assert translated == expected, "Compile the catalogues first: make messages"


@pytest.mark.parametrize(
    ("code", "one", "many"),
    [
        ("es", "1 compromiso", "2 compromisos"),
        ("pt-br", "1 compromisso", "2 compromissos"),
        ("zh-hans", "1 项承诺", "2 项承诺"),
    ],
)
def test_compiled_catalogue_chooses_the_plural_form_of_its_language(code, one, many):
    with translation.override(code):
        forms = [
            translation.ngettext("%(total)s commitment", "%(total)s commitments", n) % {"total": n}
            for n in (1, 2)
        ]

    assert forms == [one, many]


def test_kind_and_status_of_a_commitment_read_in_the_active_language():
    commitment = CommitmentFactory.build(kind="credit_line", current_status="not_yet_rated")
    with translation.override("es"):
        labels = [commitment.get_kind_display(), commitment.get_current_status_display()]

    assert labels == ["Línea de crédito", "Aún sin evaluar"]


def test_a_kind_outside_the_vocabulary_reads_as_stored():
    assert CommitmentFactory.build(kind="retired_kind").get_kind_display() == "retired_kind"
