"""FHIR R4B export of a patient's record (validated with ``fhir.resources.R4B``)."""

from .bundle import patient_bundle

__all__ = ["patient_bundle"]
