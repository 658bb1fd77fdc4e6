"""CSV, XLSX and JSON import and export of commitments, under the editorial roles."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import XLSX
from reversion.models import Version

from policy.models import Commitment, PublicationStatus
from policy.resources import CommitmentResource
from policy.spreadsheets import escape_formula, unescape_formula

pytestmark = pytest.mark.django_db

CREDIT_LINE = "credit-line-66-billion-yuan"
NEW_SLUG = "lithium-engineers"


def new_row(**changes):
    """A new commitment, valid against the seed, as a row of an import file."""
    row = {
        "slug": NEW_SLUG,
        "title": "Training for 200 lithium engineers",
        "kind": "training",
        "geographic_scope": "countries",
        "parties": "china;celac",
        "countries": "AR;BO",
        "focus_areas": "the-green-transition",
        "part_of": "china-celac-joint-action-plan-2025-2027",
        "announced_at": "fourth-ministerial-meeting-china-celac-forum",
        "target_qualifier": "up_to",
        "target_value": "200",
        "target_unit": "engineers",
        "amount": "1500000.50",
        "currency": "USD",
        "period_start": "2025-01-01",
        "period_end": "2027-01-01",
        "publication_status": "draft",
    }
    return row | changes


def dataset(*rows):
    data = tablib.Dataset(headers=list(rows[0]))
    for row in rows:
        data.append(list(row.values()))
    return data


def run_import(data, *, user, dry_run=False):
    return CommitmentResource().import_data(
        data, dry_run=dry_run, user=user, file_name="commitments.csv"
    )


def export_csv_rows():
    return list(csv.DictReader(io.StringIO(CommitmentResource().export().csv)))


def snapshot():
    """Every stored value of every commitment, its relations and history included."""
    return [
        {
            **values,
            "parties": sorted(c.parties.values_list("slug", flat=True)),
            "countries": sorted(c.countries.values_list("iso_code", flat=True)),
            "focus_areas": sorted(c.focus_areas.values_list("slug", flat=True)),
            "history": Version.objects.get_for_object(c).count(),
        }
        for values, c in zip(
            Commitment.objects.order_by("pk").values(),
            Commitment.objects.order_by("pk"),
            strict=True,
        )
    ]


def admin_url(view):
    return reverse(f"admin:policy_commitment_{view}")


def upload(client, *rows):
    content = dataset(*rows).csv.encode()
    upload = SimpleUploadedFile("commitments.csv", content, content_type="text/csv")
    return client.post(admin_url("import"), {"resource": "0", "format": "0", "import_file": upload})


def confirm(client, preview):
    return client.post(admin_url("process_import"), preview.context["confirm_form"].initial)


class TestExport:
    def test_csv_export_gives_the_credit_line_with_its_exact_amount_and_currency(self, seed):
        rows = {row["slug"]: row for row in export_csv_rows()}
        credit_line = rows[CREDIT_LINE]
        assert credit_line["amount"] == "66000000000.00"
        assert credit_line["currency"] == "CNY"
        assert credit_line["usd_equivalent"] == "9230000000.00"
        assert credit_line["announced_at"] == "fourth-ministerial-meeting-china-celac-forum"

    def test_csv_export_names_related_records_by_slug_and_iso_code(self, seed):
        rows = {row["slug"]: row for row in export_csv_rows()}
        visas = rows["visa-free-travel-brazil-argentina-peru-chile-uruguay"]
        assert visas["countries"].split(";") == ["AR", "BR", "CL", "PE", "UY"]
        scholarships = rows["scholarships-3500"]
        assert sorted(scholarships["parties"].split(";")) == ["celac", "china"]
        assert scholarships["part_of"] == "china-celac-joint-action-plan-2025-2027"
        assert scholarships["target_value"] == "3500.00"

    def test_export_includes_the_current_status_from_the_status_updates(self, seed):
        rows = {row["slug"]: row for row in export_csv_rows()}
        assert rows["visa-free-travel-brazil-argentina-peru-chile-uruguay"]["status"] == "kept"
        assert rows[CREDIT_LINE]["status"] == "not_yet_rated"

    def test_export_queries_do_not_grow_with_the_number_of_commitments(
        self, seed, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(6):
            CommitmentResource().export()

    def test_xlsx_export_from_the_admin_keeps_the_exact_amount(self, seed, editor_client):
        fields = CommitmentResource().get_export_order()
        data = {"format": "1", "resource": "0"}
        data |= {f"commitmentresource_{field}": "on" for field in fields}
        response = editor_client.post(admin_url("export"), data)
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX.CONTENT_TYPE
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, *rows = sheet.iter_rows(values_only=True)
        credit_line = next(
            dict(zip(header, row, strict=True)) for row in rows if CREDIT_LINE in row
        )
        assert credit_line["amount"] == "66000000000.00"
        assert Decimal(credit_line["amount"]) == Decimal("66000000000")


# Text a spreadsheet would run as formulas (OWASP: CSV injection), and how the export writes it.
FORMULAS = {
    "title": (
        '=HYPERLINK("https://attacker.example","Open")',
        """'=HYPERLINK("https://attacker.example","Open")""",
    ),
    "description": ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    "target_unit": ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
}


def with_formulas():
    """The credit line with text a spreadsheet would run in each text column."""
    Commitment.objects.filter(slug=CREDIT_LINE).update(
        target_value=Decimal("3"), **{field: text for field, (text, _) in FORMULAS.items()}
    )


def export_from_admin(client, file_format):
    fields = CommitmentResource().get_export_order()
    data = {"format": file_format, "resource": "0"}
    data |= {f"commitmentresource_{field}": "on" for field in fields}
    return client.post(admin_url("export"), data)


class TestFormulaEscaping:
    def test_the_admin_csv_export_escapes_text_that_a_spreadsheet_would_run(
        self, seed, editor_client
    ):
        with_formulas()
        response = export_from_admin(editor_client, "0")
        rows = csv.DictReader(io.StringIO(response.content.decode()))
        credit_line = next(row for row in rows if row["slug"] == CREDIT_LINE)
        for field, (_, escaped) in FORMULAS.items():
            assert credit_line[field] == escaped
        assert credit_line["amount"] == "66000000000.00"

    def test_the_admin_xlsx_export_writes_that_text_as_text_not_formulas(self, seed, editor_client):
        with_formulas()
        response = export_from_admin(editor_client, "1")
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, *rows = sheet.iter_rows()
        columns = [cell.value for cell in header]
        credit_line = next(row for row in rows if CREDIT_LINE in [cell.value for cell in row])
        for field, (_, escaped) in FORMULAS.items():
            cell = credit_line[columns.index(field)]
            assert (cell.value, cell.data_type) == (escaped, "s")

    @pytest.mark.parametrize(
        ("text", "escaped"),
        [
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@A1", "'@A1"),
            ("\tA1", "'\tA1"),
            ("\rA1", "'\rA1"),
            ("'=1+2", "''=1+2"),
            ("'a quote", "'a quote"),
            ("1-2", "1-2"),
            ("", ""),
        ],
    )
    def test_escaping_is_undone_exactly_on_import(self, text, escaped):
        assert escape_formula(text) == escaped
        assert unescape_formula(escaped) == text

    def test_numbers_are_left_alone_even_negative_ones(self):
        resource = CommitmentResource()
        commitment = Commitment(title="-5", amount=Decimal("-5.00"), currency="CNY")
        assert resource.export_field(resource.fields["title"], commitment) == "'-5"
        assert resource.export_field(resource.fields["amount"], commitment) == "-5.00"

    @pytest.mark.parametrize("file_format", ["csv", "xlsx"])
    def test_escaped_text_imports_back_as_it_was(self, seed, editor, file_format):
        with_formulas()
        before = snapshot()
        exported = CommitmentResource().export(force_native_type=file_format == "xlsx")
        if file_format == "xlsx":
            exported = XLSX().create_dataset(XLSX().export_data(exported))
        result = run_import(exported, user=editor)
        assert not result.has_errors() and not result.has_validation_errors()
        assert {row.import_type for row in result.rows} == {"skip"}
        assert snapshot() == before


class TestRoundTrip:
    def test_csv_export_imported_back_changes_nothing(self, seed, editor):
        before = snapshot()
        result = run_import(CommitmentResource().export(), user=editor)
        assert not result.has_errors() and not result.has_validation_errors()
        assert {row.import_type for row in result.rows} == {"skip"}
        assert snapshot() == before

    def test_xlsx_export_imported_back_changes_nothing(self, seed, editor):
        before = snapshot()
        xlsx = XLSX()
        exported = xlsx.export_data(CommitmentResource().export(force_native_type=True))
        result = run_import(xlsx.create_dataset(exported), user=editor)
        assert not result.has_errors() and not result.has_validation_errors()
        assert {row.import_type for row in result.rows} == {"skip"}
        assert snapshot() == before


class TestImport:
    def test_a_dry_run_previews_the_new_commitment_and_writes_nothing(self, seed, editor):
        before = snapshot()
        result = run_import(dataset(new_row()), user=editor, dry_run=True)
        assert not result.has_errors() and not result.has_validation_errors()
        assert [row.import_type for row in result.rows] == ["new"]
        assert snapshot() == before

    def test_an_import_writes_the_commitment_with_its_figures_and_relations(self, seed, editor):
        result = run_import(dataset(new_row()), user=editor)
        assert [row.import_type for row in result.rows] == ["new"]
        commitment = Commitment.objects.get(slug=NEW_SLUG)
        assert commitment.amount == Decimal("1500000.50")
        assert commitment.currency == "USD"
        assert commitment.target_value == Decimal("200")
        assert commitment.part_of.slug == "china-celac-joint-action-plan-2025-2027"
        assert commitment.announced_at.slug == "fourth-ministerial-meeting-china-celac-forum"
        assert set(commitment.parties.values_list("slug", flat=True)) == {"china", "celac"}
        assert set(commitment.countries.values_list("iso_code", flat=True)) == {"AR", "BO"}
        assert list(commitment.focus_areas.values_list("slug", flat=True)) == [
            "the-green-transition"
        ]

    def test_an_import_updates_the_commitment_with_the_same_slug(self, seed, publisher):
        row = {"slug": CREDIT_LINE, "amount": "66000000000.01", "currency": "CNY"}
        result = run_import(dataset(row), user=publisher)
        assert [row.import_type for row in result.rows] == ["update"]
        credit_line = Commitment.objects.get(slug=CREDIT_LINE)
        assert credit_line.amount == Decimal("66000000000.01")
        assert credit_line.announced_at is not None

    @pytest.mark.parametrize(
        ("change", "field", "value"),
        [
            ({"amount": "1000", "currency": "YEN"}, "currency", "YEN"),
            ({"target_value": "-5"}, "target_value", None),
            ({"countries": "AR;ZZ"}, "countries", "ZZ"),
            ({"parties": "china;atlantis"}, "parties", "atlantis"),
            ({"announced_at": "no-such-meeting"}, "announced_at", "no-such-meeting"),
            ({"amount": "66 billion"}, "amount", "66 billion"),
            ({"period_start": "2028-01-01"}, "period_end", None),
        ],
    )
    def test_one_invalid_row_writes_nothing_and_its_error_names_the_row_and_field(
        self, seed, publisher, change, field, value
    ):
        before = snapshot()
        valid = new_row(slug="valid-commitment")
        result = run_import(dataset(valid, new_row(**change)), user=publisher)
        assert [row.number for row in result.invalid_rows] == [2]
        errors = result.invalid_rows[0].error_dict
        assert list(errors) == [field]
        if value:
            assert value in " ".join(errors[field])
        assert snapshot() == before
        assert not Commitment.objects.filter(slug="valid-commitment").exists()

    def test_an_amount_without_currency_is_a_row_error(self, seed, publisher):
        result = run_import(dataset(new_row(currency="")), user=publisher)
        assert "currency" in result.invalid_rows[0].error_dict


class TestRoles:
    def test_an_editor_importing_a_published_commitment_is_refused(self, seed, editor):
        result = run_import(dataset(new_row(publication_status="published")), user=editor)
        errors = result.invalid_rows[0].error_dict
        assert "Only a Publisher" in " ".join(errors["publication_status"])
        assert not Commitment.objects.filter(slug=NEW_SLUG).exists()

    def test_an_editor_changing_a_published_commitment_is_refused(self, seed, editor):
        row = {"slug": CREDIT_LINE, "title": "A changed title"}
        result = run_import(dataset(row), user=editor)
        errors = result.invalid_rows[0].error_dict
        assert "only a Publisher can change it" in " ".join(errors["publication_status"])
        assert Commitment.objects.get(slug=CREDIT_LINE).title != "A changed title"

    def test_a_publisher_may_import_a_published_commitment(self, seed, publisher):
        result = run_import(dataset(new_row(publication_status="published")), user=publisher)
        assert not result.has_validation_errors()
        commitment = Commitment.objects.get(slug=NEW_SLUG)
        assert commitment.publication_status == PublicationStatus.PUBLISHED
        assert commitment.first_published_at is not None


class TestHistory:
    def test_the_history_records_the_imported_commitment_with_the_user_and_file(self, seed, editor):
        run_import(dataset(new_row()), user=editor)
        commitment = Commitment.objects.get(slug=NEW_SLUG)
        version = Version.objects.get_for_object(commitment).get()
        assert version.revision.user == editor
        assert version.revision.comment == "Imported from commitments.csv"
        assert set(version.field_dict["countries"]) == set(
            commitment.countries.values_list("pk", flat=True)
        )

    def test_a_refused_import_leaves_no_history(self, seed, editor):
        versions = Version.objects.count()
        run_import(dataset(new_row(), new_row(slug="other", kind="unknown")), user=editor)
        assert Version.objects.count() == versions


class TestAdmin:
    def test_the_change_list_offers_import_export_and_recovery_of_deleted_records(
        self, editor_client
    ):
        page = editor_client.get(admin_url("changelist")).content.decode()
        assert admin_url("import") in page
        assert admin_url("export") in page
        assert admin_url("recoverlist") in page

    def test_import_and_export_need_the_add_and_view_permissions(self, client, django_user_model):
        staff = django_user_model.objects.create_user("stan", password="x", is_staff=True)
        client.force_login(staff)
        assert client.get(admin_url("import")).status_code == 403
        assert client.get(admin_url("export")).status_code == 403

    def test_the_import_previews_first_and_writes_only_on_confirm(self, seed, editor_client):
        preview = upload(editor_client, new_row())
        assert preview.status_code == 200
        assert "Confirm import" in preview.content.decode()
        assert not Commitment.objects.filter(slug=NEW_SLUG).exists()

        response = confirm(editor_client, preview)
        assert response.status_code == 302
        commitment = Commitment.objects.get(slug=NEW_SLUG)
        assert Version.objects.get_for_object(commitment).get().revision.user.username == "edna"

    def test_the_preview_lists_row_errors_and_offers_no_confirm(self, seed, editor_client):
        preview = upload(editor_client, new_row(), new_row(slug="other", countries="ZZ"))
        page = preview.content.decode()
        assert "confirm_form" not in preview.context
        assert "No country has the ISO code “ZZ”." in page
        assert not Commitment.objects.filter(slug=NEW_SLUG).exists()

    def test_a_confirm_is_refused_when_a_row_is_no_longer_valid(self, seed, editor_client):
        preview = upload(editor_client, new_row())
        # Meanwhile someone creates and publishes the same commitment.
        Commitment.objects.create(
            slug=NEW_SLUG,
            title="Published elsewhere",
            kind="training",
            publication_status="published",
        )
        response = confirm(editor_client, preview)
        assert response.status_code == 302
        assert response["Location"] == admin_url("import")
        assert Commitment.objects.get(slug=NEW_SLUG).title == "Published elsewhere"
