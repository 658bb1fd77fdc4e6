"""The articles' search indexes, one for each language's articles instead of one for all.

Migration 0003 indexed an article's texts with a CASE that picks the text search configuration of
its language, and search queried that CASE. Search asks for the articles of each language apart
(policy/search.py), so a partial index for each language, on the plain vector in that language's
configuration, answers the same conditions. Building the query of a search and turning it into
SQL took 20 ms of Python for the articles' part with the CASE in each of its twelve subqueries,
8 ms without.

PostgreSQL only, as 0003; tests/test_search.py checks with EXPLAIN that search uses every index.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import migrations
from django.db.models import Case, Q, When

# The languages of `Article.language` with a configuration of their own; the others are indexed
# with "simple", without stemming.
CONFIGS = {"en": "english", "es": "spanish", "pt": "portuguese"}
UNSTEMMED = "simple"

# The texts of each index, by the name it had in 0003 and the start of its new names.
TEXTS = {
    ("policy_article_search", "policy_article_text"): ("title", "summary", "body"),
    ("policy_article_title_search", "policy_article_title"): ("title",),
    ("policy_article_summary_search", "policy_article_summary"): ("summary",),
}


def by_language():
    indexes = []
    for (_, prefix), fields in TEXTS.items():
        for language, config in CONFIGS.items():
            indexes.append(
                GinIndex(
                    SearchVector(*fields, config=config),
                    condition=Q(language=language),
                    name=f"{prefix}_{language}",
                )
            )
        indexes.append(
            GinIndex(
                SearchVector(*fields, config=UNSTEMMED),
                condition=~Q(language__in=list(CONFIGS)),
                name=f"{prefix}_other",
            )
        )
    return indexes


def in_one():
    """The indexes of migration 0003."""
    return [
        GinIndex(
            Case(
                *(
                    When(language=language, then=SearchVector(*fields, config=config))
                    for language, config in CONFIGS.items()
                ),
                default=SearchVector(*fields, config=UNSTEMMED),
                output_field=SearchVectorField(),
            ),
            name=name,
        )
        for (name, _), fields in TEXTS.items()
    ]


def replace(apps, schema_editor, old, new):
    if schema_editor.connection.vendor != "postgresql":
        return
    article = apps.get_model("policy", "article")
    for index in old:
        schema_editor.remove_index(article, index)
    for index in new:
        schema_editor.add_index(article, index)
        # As in 0003: without statistics, the planner reads the index for every word.
        schema_editor.execute(
            f"ALTER INDEX {schema_editor.quote_name(index.name)} ALTER COLUMN 1 SET STATISTICS 0"
        )


def index_by_language(apps, schema_editor):
    replace(apps, schema_editor, in_one(), by_language())


def index_in_one(apps, schema_editor):
    replace(apps, schema_editor, by_language(), in_one())


class Migration(migrations.Migration):
    dependencies = [("policy", "0006_commitment_kind_status_index")]

    operations = [migrations.RunPython(index_by_language, index_in_one)]
