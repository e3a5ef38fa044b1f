import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from fhir.resources.R4B.bundle import Bundle

from patients.models import Patient
from tests.factories import PatientFactory


def export(*args: str) -> str:
    out = StringIO()
    call_command("export_fhir", *args, stdout=out)
    return out.getvalue()


def test_one_patient_without_a_folder_goes_to_stdout(full_patient) -> None:
    bundle = json.loads(export("--patient", str(full_patient.pk)))
    Bundle.model_validate(bundle)
    assert bundle["entry"][0]["resource"]["identifier"][0]["value"] == str(full_patient.pk)


def test_one_patient_with_a_folder_is_written_to_a_file(minimal_patient, tmp_path) -> None:
    output = export("--patient", str(minimal_patient.pk), "--out", str(tmp_path / "fhir"))
    written = tmp_path / "fhir" / f"patient-{minimal_patient.pk}.json"
    assert f"Exported patient {minimal_patient.pk}" in output
    Bundle.model_validate(json.loads(written.read_text(encoding="utf-8")))


def test_an_unknown_patient_id_is_a_clear_error(db) -> None:
    with pytest.raises(CommandError, match="No patient with id 999999"):
        export("--patient", "999999")


def test_every_patient_is_written_with_progress_shown(db, tmp_path) -> None:
    PatientFactory.create_batch(40)
    archived = PatientFactory()
    Patient.objects.filter(pk=archived.pk).update(archived_at="2025-01-01T00:00:00Z")
    output = export("--all", "--out", str(tmp_path))
    files = sorted(tmp_path.glob("patient-*.json"))
    assert len(files) == 41
    assert "Exported 2/41" in output
    assert "Exported 41/41" in output
    assert len([line for line in output.splitlines() if line.startswith("Exported ")]) <= 22
    assert (tmp_path / f"patient-{archived.pk}.json").exists()
    Bundle.model_validate(json.loads(files[0].read_text(encoding="utf-8")))


def test_all_needs_a_folder(db) -> None:
    with pytest.raises(CommandError, match="--out"):
        export("--all")


def test_patient_or_all_must_be_chosen(db) -> None:
    with pytest.raises(CommandError):
        export()


def test_out_must_not_be_a_file(minimal_patient, tmp_path) -> None:
    target = tmp_path / "taken.json"
    target.write_text("{}")
    with pytest.raises(CommandError, match="is a file"):
        export("--patient", str(minimal_patient.pk), "--out", str(target))
