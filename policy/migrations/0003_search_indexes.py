"""PostgreSQL's search indexes: GIN indexes on the full-text vectors that search matches and
ranks with, and pg_trgm GIN indexes on the titles and names that typos are forgiven in.

The expressions are those `policy.search` queries with, written out here as a migration must be;
tests/test_search.py checks with EXPLAIN that the search uses every index. Other databases
search without indexes, so nothing happens there.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import migrations
from django.db.models import Case, When


def text(*fields, config="english"):
    return SearchVector(*fields, config=config)


def article_text(*fields):
    return Case(
        When(language="en", then=text(*fields, config="english")),
        When(language="es", then=text(*fields, config="spanish")),
        When(language="pt", then=text(*fields, config="portuguese")),
        default=text(*fields, config="simple"),
        output_field=SearchVectorField(),
    )


def trigrams(field, *, name):
    return GinIndex(fields=[field], opclasses=["gin_trgm_ops"], name=name)


SEARCH_INDEXES = {
    "commitment": [
        GinIndex(text("title", "description"), name="policy_commitment_search"),
        GinIndex(text("title"), name="policy_commitment_title_search"),
        GinIndex(text("description"), name="policy_commitment_description_search"),
        trigrams("title", name="policy_commitment_title_trgm"),
    ],
    "article": [
        GinIndex(article_text("title", "summary", "body"), name="policy_article_search"),
        GinIndex(article_text("title"), name="policy_article_title_search"),
        GinIndex(article_text("summary"), name="policy_article_summary_search"),
        trigrams("title", name="policy_article_title_trgm"),
    ],
    "focusarea": [
        GinIndex(text("name", "description"), name="policy_focusarea_search"),
        GinIndex(text("name"), name="policy_focusarea_name_search"),
        GinIndex(text("description"), name="policy_focusarea_description_search"),
        trigrams("name", name="policy_focusarea_name_trgm"),
    ],
    "country": [
        GinIndex(text("name"), name="policy_country_search"),
        trigrams("name", name="policy_country_name_trgm"),
    ],
    "sourcequote": [
        GinIndex(text("text", config="simple"), name="policy_sourcequote_search"),
    ],
}


def create_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for model_name, indexes in SEARCH_INDEXES.items():
        for index in indexes:
            schema_editor.add_index(apps.get_model("policy", model_name), index)
            if not index.opclasses:
                # Without statistics the planner takes every word for rare and reads the index.
                # With them, for a common word it reads the table whole, computing each row's
                # vector again, as it reckons the index would too: 0.9 s for 1,000 articles,
                # where the index takes milliseconds.
                schema_editor.execute(
                    f"ALTER INDEX {schema_editor.quote_name(index.name)} "
                    "ALTER COLUMN 1 SET STATISTICS 0"
                )


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for model_name, indexes in SEARCH_INDEXES.items():
        for index in indexes:
            schema_editor.remove_index(apps.get_model("policy", model_name), index)
    schema_editor.execute("DROP EXTENSION IF EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_editorial_groups")]

    operations = [migrations.RunPython(create_search_indexes, drop_search_indexes)]
