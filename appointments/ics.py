"""iCalendar documents for appointments: e-mail invitations (RFC 5546) and clinicians' feeds.

Times are written in UTC; every appointment keeps one UID for its whole life so calendar
programs update or remove the event they already hold instead of adding another.
"""

import datetime
from collections.abc import Iterable
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Appointment, Status


class Method:
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


def _from_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "clinic@example.com"


def uid_domain() -> str:
    return _from_address().rpartition("@")[2] or "clinic.invalid"


def appointment_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@{uid_domain()}"


def location_text(appointment: Appointment) -> str:
    location = appointment.location
    lines = [line.strip() for line in location.address.splitlines() if line.strip()]
    return ", ".join([location.name, *lines])


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _calendar(method: str | None = None, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.PRACTICE_NAME}//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _event(
    appointment: Appointment,
    *,
    summary: str,
    location: str,
    sequence: int,
    cancelled: bool,
    stamp: datetime.datetime,
) -> Event:
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", _utc(stamp))
    event.add("dtstart", _utc(appointment.starts_at))
    event.add("dtend", _utc(appointment.ends_at))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def invitation(
    appointments: Iterable[Appointment],
    *,
    method: str,
    sequences: dict[int, int],
    attendee_email: str = "",
    attendee_name: str = "",
) -> str:
    """The .ics attached to a patient's e-mail: one VEVENT per appointment."""
    calendar = _calendar(method)
    stamp = timezone.now()
    for appointment in appointments:
        event = _event(
            appointment,
            summary=f"{appointment.appointment_type.name} with {appointment.clinician}",
            location=location_text(appointment),
            sequence=sequences.get(appointment.pk, 0),
            cancelled=method == Method.CANCEL,
            stamp=stamp,
        )
        organizer = vCalAddress(f"mailto:{_from_address()}")
        organizer.params["cn"] = vText(settings.PRACTICE_NAME)
        event.add("organizer", organizer)
        if attendee_email:
            attendee = vCalAddress(f"mailto:{attendee_email}")
            attendee.params["cn"] = vText(attendee_name)
            attendee.params["rsvp"] = vText("FALSE")
            event.add("attendee", attendee)
        calendar.add_component(event)
    return calendar.to_ical().decode()


def clinician_feed(appointments: Iterable[Appointment], *, name: str, full_names: bool) -> bytes:
    """A clinician's subscribed calendar: initials and type unless full names are allowed."""
    calendar = _calendar(name=name)
    stamp = timezone.now()
    for appointment in appointments:
        patient = appointment.patient
        who = patient.full_name if full_names else patient.initials
        summary = f"{who} – {appointment.appointment_type.name}"
        if appointment.status == Status.NO_SHOW:
            summary += " (no-show)"
        where = appointment.location.name
        if appointment.room is not None:
            where = f"{where} · {appointment.room.name}"
        calendar.add_component(
            _event(
                appointment,
                summary=summary,
                location=where,
                sequence=0,
                cancelled=False,
                stamp=stamp,
            )
        )
    return calendar.to_ical()
