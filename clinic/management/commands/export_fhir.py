"""Export patients' records as FHIR R4B Bundles: one patient to stdout or a file, or every
patient to a folder (one ``patient-<id>.json`` each) with progress shown."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.fhir import patient_bundle
from patients.models import Patient


def _dumps(bundle: dict) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False)


class Command(BaseCommand):
    help = "Export patient records as FHIR R4B Bundles (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--patient", type=int, metavar="ID", help="The patient's id.")
        which.add_argument("--all", action="store_true", help="Every patient, archived too.")
        parser.add_argument(
            "--out", type=Path, metavar="DIR", help="Folder to write patient-<id>.json files to."
        )

    def handle(self, *args, **options) -> None:
        patient, out = options["patient"], options["out"]
        if out is not None:
            if out.exists() and not out.is_dir():
                raise CommandError(f"--out {out} is a file; give a folder.")
            out.mkdir(parents=True, exist_ok=True)
        if patient is not None:
            self._export_one(patient, out)
        elif out is None:
            raise CommandError("--all writes one file per patient: give a folder with --out DIR.")
        else:
            self._export_all(out)

    def _export_one(self, pk: int, out: Path | None) -> None:
        record = Patient.objects.filter(pk=pk).first()
        if record is None:
            raise CommandError(f"No patient with id {pk}.")
        text = _dumps(patient_bundle(record))
        if out is None:
            self.stdout.write(text)
            return
        path = out / f"patient-{record.pk}.json"
        path.write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"Exported patient {record.pk} to {path}"))

    def _export_all(self, out: Path) -> None:
        ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
        total = len(ids)
        step = max(1, total // 20)
        for done, pk in enumerate(ids, start=1):
            record = Patient.objects.get(pk=pk)
            (out / f"patient-{pk}.json").write_text(
                _dumps(patient_bundle(record)), encoding="utf-8"
            )
            if done % step == 0 or done == total:
                self.stdout.write(f"Exported {done}/{total}")
        self.stdout.write(self.style.SUCCESS(f"Exported {total} patient(s) to {out}"))
