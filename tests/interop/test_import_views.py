from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clinic.audit import AccessEvent, Action
from patients import import_views
from patients.importer import NOT_UTF8
from patients.models import Patient
from tests.factories import UserFactory

from .helpers import HEADER, csv_bytes, csv_text, good_row

IMPORT = reverse("patients:import")
PREVIEW = reverse("patients:import_preview")
COMMIT = reverse("patients:import_commit")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def stored_uploads() -> list[str]:
    try:
        return default_storage.listdir(import_views.UPLOAD_DIR)[1]
    except FileNotFoundError:
        return []


@pytest.fixture(autouse=True)
def _empty_storage():
    for name in stored_uploads():
        default_storage.delete(f"{import_views.UPLOAD_DIR}/{name}")


def upload(client, data: bytes, name: str = "patients.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data, "text/csv")})


def token_of(response) -> str:
    assert response.status_code == 302, response.content[:500]
    return parse_qs(urlsplit(response.url).query)["upload"][0]


def mapping_query(client, token: str) -> dict[str, str]:
    """The mapping form as the page proposes it."""
    form = client.get(IMPORT, {"upload": token}).context["form"]
    return {"upload": token} | {
        name: form[name].value() or "" for name in form.fields if name.startswith("column_")
    }


def test_a_manager_uploads_maps_previews_and_imports(manager_client, manager):
    header = ["Forename", "Surname", "Geboren", "Mobile", "Email", "Notes"]
    rows = [[*good_row(n), "ignore me"] for n in range(3)]
    token = token_of(upload(manager_client, csv_bytes(rows, header)))
    assert len(stored_uploads()) == 1

    page = manager_client.get(IMPORT, {"upload": token})
    assert page.status_code == 200
    assert b"Which column holds what?" in page.content
    form = page.context["form"]
    assert (form["column_0"].value(), form["column_2"].value()) == ("first_name", "")

    query = mapping_query(manager_client, token) | {"column_2": "date_of_birth"}
    preview = manager_client.get(PREVIEW, query)
    assert preview.status_code == 200
    assert preview.context["report"].to_create == 3
    assert b"Preview: nothing is saved yet" in preview.content
    assert b"Import 3 patients" in preview.content
    assert not Patient.objects.exists()

    done = manager_client.post(COMMIT, query)

    assert done.status_code == 302 and done.url == reverse("patients:list")
    assert messages_of(done) == ["Imported 3 patients."]
    assert Patient.objects.filter(created_by=manager).count() == 3
    entry = AccessEvent.objects.get(action=Action.CREATE)
    assert (entry.object_type, entry.object_id, entry.user) == ("patient_import", "3", manager)
    assert stored_uploads() == []


def test_the_same_import_cannot_be_committed_twice(manager_client):
    token = token_of(upload(manager_client, csv_bytes([good_row()])))
    query = mapping_query(manager_client, token)
    manager_client.post(COMMIT, query)

    again = manager_client.post(COMMIT, query)

    assert again.url == IMPORT
    assert messages_of(again)[-1] == import_views.EXPIRED
    assert Patient.objects.count() == 1


def test_the_preview_lists_errors_and_duplicates_and_offers_no_import(manager_client, patient):
    bad = good_row(2)
    bad[2] = "30/02/1990"
    duplicate = [patient.first_name, patient.last_name, f"{patient.date_of_birth:%d/%m/%Y}", "", ""]
    token = token_of(upload(manager_client, csv_bytes([good_row(1), bad, duplicate])))

    preview = manager_client.get(PREVIEW, mapping_query(manager_client, token))
    content = preview.content.decode()

    assert "1 row has errors, so nothing can be imported" in content
    assert "<td>3</td><td>Date of birth</td><td>Enter a valid date.</td>" in content
    assert "Already registered: same name and date of birth." in content
    assert "Import 1 patient" not in content


def test_committing_a_file_with_errors_creates_nothing(manager_client):
    bad = good_row(2)
    bad[0] = "=cmd|' /C calc'!A0"
    token = token_of(upload(manager_client, csv_bytes([good_row(1), bad])))
    query = mapping_query(manager_client, token)

    response = manager_client.post(COMMIT, query)

    assert response.status_code == 302 and response.url.startswith(PREVIEW)
    assert "nothing was imported" in messages_of(response)[0]
    assert not Patient.objects.exists()
    assert not AccessEvent.objects.filter(action=Action.CREATE).exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (csv_text([good_row()]).encode("utf-16"), NOT_UTF8),
        (b"", "The submitted file is empty."),
        (b"First name,Last name,Date of birth\r\n", "The file has column names but no patients."),
    ],
)
def test_an_unreadable_file_is_refused_at_upload_and_not_kept(manager_client, data, message):
    response = upload(manager_client, data)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    assert stored_uploads() == []


def test_missing_required_columns_are_named_before_the_preview(manager_client):
    token = token_of(upload(manager_client, csv_bytes([["Ada", "x"]], ["First name", "Notes"])))

    response = manager_client.get(PREVIEW, mapping_query(manager_client, token))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The file has no column for: last name, date of birth. Add the column to the file "
        "or choose which of its columns holds it."
    ]


def test_another_managers_upload_cannot_be_used(manager_client):
    token = token_of(upload(manager_client, csv_bytes([good_row()])))
    query = mapping_query(manager_client, token)
    other = UserFactory(username="manager2", roles=["practice_manager"])
    manager_client.force_login(other)

    assert manager_client.get(IMPORT, {"upload": token}).url == IMPORT
    assert manager_client.get(PREVIEW, query).url == IMPORT
    assert manager_client.post(COMMIT, query).url == IMPORT
    assert not Patient.objects.exists()


def test_a_tampered_token_is_refused(manager_client):
    token = token_of(upload(manager_client, csv_bytes([good_row()])))
    query = mapping_query(manager_client, token) | {"upload": token[:-2] + "xx"}

    response = manager_client.post(COMMIT, query)

    assert response.url == IMPORT
    assert not Patient.objects.exists()


@pytest.mark.parametrize("who", ["front_desk_client", "physio_client", "outsider_client"])
def test_only_practice_managers_may_import(request, who):
    client = request.getfixturevalue(who)

    assert client.get(IMPORT).status_code == 403
    assert upload(client, csv_bytes([good_row()])).status_code == 403
    assert client.get(PREVIEW, {"upload": "x"}).status_code == 403
    assert client.post(COMMIT, {"upload": "x"}).status_code == 403
    assert stored_uploads() == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get(IMPORT), client.get(PREVIEW), client.post(COMMIT)):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_patients_list_links_managers_to_import_and_export(manager_client, front_desk_client):
    page = manager_client.get(reverse("patients:list")).content.decode()
    other = front_desk_client.get(reverse("patients:list")).content.decode()

    assert IMPORT in page and reverse("patients:export_csv") in page
    assert IMPORT not in other and reverse("patients:export_csv") not in other


def test_header_names_are_kept_as_labels(manager_client):
    token = token_of(upload(manager_client, csv_bytes([good_row()], HEADER)))

    form = manager_client.get(IMPORT, {"upload": token}).context["form"]

    assert [form[f"column_{i}"].label for i in range(len(HEADER))] == HEADER
