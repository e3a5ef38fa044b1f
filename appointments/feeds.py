"""Clinicians' private calendar feeds: a secret link their calendar program subscribes to.

The token in the link is the only credential, so the feed shows patient initials unless
the clinician chooses full names, and resetting the link makes the old one stop working.
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clinic.audit import Action, log_access
from clinic.models import User

from . import ics
from .models import Appointment, CalendarFeed, Status

FEED_PAST = datetime.timedelta(days=30)
FEED_AHEAD = datetime.timedelta(days=180)


def calendar_feed_for(user: User) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(
        clinician=user, defaults={"token": CalendarFeed.new_token()}
    )
    return feed


def calendar_feed_reset(feed: CalendarFeed) -> CalendarFeed:
    feed.token = CalendarFeed.new_token()
    feed.save(update_fields=["token"])
    return feed


def feed_appointments(clinician: User, now: datetime.datetime) -> list[Appointment]:
    return list(
        Appointment.objects.filter(
            clinician=clinician,
            starts_at__gte=now - FEED_PAST,
            starts_at__lte=now + FEED_AHEAD,
        )
        .exclude(status=Status.CANCELLED)
        .select_related("patient", "location", "room", "appointment_type")
        .order_by("starts_at")
    )


@login_not_required
@never_cache
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    calendar_feed = get_object_or_404(
        CalendarFeed.objects.select_related("clinician__staff_profile"), token=token
    )
    clinician = calendar_feed.clinician
    if not clinician.is_active or not clinician.is_physiotherapist:
        raise Http404
    log_access(request, Action.EXPORT, calendar_feed)
    body = ics.clinician_feed(
        feed_appointments(clinician, timezone.now()),
        name=f"{clinician} – appointments",
        full_names=calendar_feed.show_full_names,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


class FeedSettingsForm(forms.Form):
    action = forms.ChoiceField(choices=[("reset", "Reset the link"), ("names", "Save")])
    show_full_names = forms.BooleanField(
        required=False,
        label="Show patients' full names",
        help_text=(
            "Off: your calendar shows initials and the appointment type only. Anyone who "
            "can see your calendar, or gets hold of the link, sees what the feed shows."
        ),
    )


@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    if not request.user.is_physiotherapist:
        raise PermissionDenied
    calendar_feed = calendar_feed_for(request.user)
    if request.method == "POST":
        form = FeedSettingsForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["action"] == "reset":
                calendar_feed_reset(calendar_feed)
                messages.success(
                    request,
                    "Your calendar link is reset; the old link no longer works. "
                    "Subscribe to the new link below in your calendar program.",
                )
            else:
                calendar_feed.show_full_names = form.cleaned_data["show_full_names"]
                calendar_feed.save(update_fields=["show_full_names"])
                shown = "full names" if calendar_feed.show_full_names else "initials"
                messages.success(request, f"Your calendar now shows patients' {shown}.")
            return redirect("appointments:feed_settings")
        messages.error(request, "That request was not understood; nothing was changed.")
    feed_path = reverse("appointments:feed", args=[calendar_feed.token])
    feed_url = request.build_absolute_uri(feed_path)
    context = {
        "calendar_feed": calendar_feed,
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        "form": FeedSettingsForm(initial={"show_full_names": calendar_feed.show_full_names}),
    }
    return render(request, "appointments/feed_settings.html", context)


urlpatterns = [
    path("feed/", feed_settings, name="feed_settings"),
    path("feed/<str:token>.ics", feed, name="feed"),
]
