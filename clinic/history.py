"""Record history (django-simple-history) read back as entries: who, when, what changed.

Each tracked model keeps one historical row per save. ``history_entries`` compares every
row with the one before it for the same object and says which fields changed. Readers who
may not see a record's content get the entries ``with_values=False``: who, when and which
fields, never a value.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format

ACTIONS = {"+": "Created", "~": "Changed", "-": "Deleted"}
#: Bookkeeping that changes on every save or is derived from other fields.
NOT_SHOWN = frozenset({"id", "created_at", "updated_at", "content_hash", "search_name"})
EMPTY = "—"


@dataclass(frozen=True)
class FieldChange:
    name: str
    old: str = ""
    new: str = ""


@dataclass
class HistoryEntry:
    at: datetime.datetime
    user: models.Model | None
    action: str
    record: str
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def field_names(self) -> str:
        return ", ".join(change.name for change in self.changes)


def history_entries(
    records: Iterable[models.Model],
    *,
    label: Callable[[models.Model], str],
    context_fields: Iterable[str] = (),
    with_values: bool = True,
) -> list[HistoryEntry]:
    """Entries for the historical rows of one model, newest first.

    ``context_fields`` are the parent links the page already shows (patient, episode…);
    they are left out of the changes.
    """
    records = sorted(records, key=lambda record: (record.history_date, record.history_id))
    if not records:
        return []
    model = records[0].instance_type
    fields = _shown_fields(model, records[0], set(context_fields))
    m2m_fields = [
        f for f in getattr(records[0], "_history_m2m_fields", []) if f.name not in context_fields
    ]
    m2m_values = _m2m_values(records, m2m_fields)
    labels = _related_labels(records, fields, m2m_values) if with_values else {}
    users = _users({record.history_user_id for record in records})

    previous: dict[object, dict[str, object]] = {}
    entries = []
    for record in records:
        values = {f.name: getattr(record, f.attname) for f in fields}
        values.update({f.name: m2m_values[f][record.history_id] for f in m2m_fields})
        key = getattr(record, model._meta.pk.attname)
        before = previous.get(key)
        previous[key] = values
        if record.history_type == "-":
            changes = []
        else:
            changes = [
                _change(f, before, values, labels, with_values)
                for f in [*fields, *m2m_fields]
                if (values[f.name] != before[f.name] if before else not _is_empty(values[f.name]))
            ]
            if before is not None and not changes:
                continue
        entries.append(
            HistoryEntry(
                at=record.history_date,
                user=users.get(record.history_user_id),
                action=ACTIONS.get(record.history_type, "Changed"),
                record=label(record),
                changes=changes,
            )
        )
    return entries[::-1]


def newest_first(*groups: list[HistoryEntry]) -> list[HistoryEntry]:
    return sorted((entry for group in groups for entry in group), key=lambda e: e.at, reverse=True)


def _shown_fields(model, record, context_fields: set[str]) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.name not in NOT_SHOWN
        and f.name not in context_fields
        and not (f.remote_field and getattr(f.remote_field, "parent_link", False))
        and hasattr(record, f.attname)
    ]


def _m2m_values(records, m2m_fields) -> dict[models.Field, dict[int, frozenset]]:
    """For each many-to-many field, the related ids each historical row held (one query)."""
    values = {}
    for f in m2m_fields:
        rows = getattr(type(records[0]), f.name).model.objects.filter(
            history_id__in=[record.history_id for record in records]
        )
        held = defaultdict(set)
        for history_id, related_id in rows.values_list(
            "history_id", f"{f.m2m_reverse_field_name()}_id"
        ):
            held[history_id].add(related_id)
        values[f] = {record.history_id: frozenset(held[record.history_id]) for record in records}
    return values


def _users(ids: set) -> dict:
    ids.discard(None)
    if not ids:
        return {}
    return get_user_model().objects.select_related("staff_profile").in_bulk(ids)


def _related_labels(records, fields, m2m_values) -> dict[tuple[type, object], str]:
    wanted: dict[type, set] = defaultdict(set)
    for record in records:
        for f in fields:
            if f.is_relation and getattr(record, f.attname) is not None:
                wanted[f.related_model].add(getattr(record, f.attname))
    for f, held in m2m_values.items():
        wanted[f.related_model].update(*held.values())
    labels = {}
    for related_model, ids in wanted.items():
        if related_model is get_user_model():
            objects = _users(ids)
        else:
            objects = related_model._default_manager.in_bulk(ids)
        labels.update({(related_model, pk): str(obj) for pk, obj in objects.items()})
    return labels


def _change(f, before, values, labels, with_values: bool) -> FieldChange:
    name = str(f.verbose_name)
    name = name[:1].upper() + name[1:]
    if not with_values:
        return FieldChange(name)
    old = _display(f, before[f.name], labels) if before else ""
    return FieldChange(name, old, _display(f, values[f.name], labels))


def _is_empty(value) -> bool:
    return value in (None, "", [], {}, frozenset())


def _display(f, value, labels) -> str:
    if _is_empty(value):
        return EMPTY
    if f.many_to_many:
        names = sorted(labels.get((f.related_model, pk), f"#{pk}") for pk in value)
        return ", ".join(names)
    if f.is_relation:
        return labels.get((f.related_model, value), f"#{value}")
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "j M Y H:i")
    if isinstance(value, datetime.date):
        return date_format(value, "j M Y")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return f"{len(value)} answers"
    return str(value)
