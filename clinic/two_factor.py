"""Two-factor sign-in: an authenticator app (TOTP) and single-use recovery codes.

Practice managers and superusers must use it; anyone else may turn it on. Whoever has it
gives a code after their password before any page opens (``TwoFactorMiddleware``),
the admin site included.
"""

import base64
import io
from collections.abc import Callable

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_otp import DEVICE_ID_SESSION_KEY, verify_token
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import User

RECOVERY_CODE_COUNT = 10
# Set at sign-in: whether someone who may choose has turned two-factor sign-in on.
SESSION_TWO_FACTOR_ON = "_two_factor_on"
# Recovery codes just made, shown once and then dropped from the session.
SESSION_NEW_CODES = "_two_factor_new_codes"


def two_factor_not_required(view: Callable) -> Callable:
    """Mark a view that opens before the second factor is given (like ``login_not_required``)."""
    view.two_factor_required = False
    return view


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def two_factor_on(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_generate(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with a fresh set; each works once."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name="Recovery codes", defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _verified(request: HttpRequest, device: Device) -> None:
    """This session has given its second factor: a new session key for the new trust."""
    request.session.cycle_key()
    otp_login(request, device)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def session_two_factor_flag(sender, request: HttpRequest, user: User, **kwargs) -> None:
    """``user_logged_in``: remember whether this person turned two-factor sign-in on."""
    request.session[SESSION_TWO_FACTOR_ON] = two_factor_on(user)


class TwoFactorMiddleware:
    """Sends a signed-in person who owes a second factor to set it up or to give a code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True):
            return None
        if not getattr(view_func, "two_factor_required", True):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if user.must_use_two_factor:
            target = "two_factor_verify" if two_factor_on(user) else "two_factor_setup"
        elif request.session.get(SESSION_TWO_FACTOR_ON):
            target = "two_factor_verify"
        else:
            return None
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(reverse(target))
        return redirect_to_login(request.get_full_path(), reverse(target))


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def __init__(self, *args, user: User, devices: list[Device], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.devices = devices
        self.device: Device | None = None

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split()).lower()
        devices = self._devices_for(code)
        for device in devices:
            allowed, details = device.verify_is_allowed()
            if not allowed and details and details.get("locked_until"):
                wait = (details["locked_until"] - timezone.now()).total_seconds()
                raise forms.ValidationError(
                    f"Too many wrong codes. Wait {max(1, round(wait))} seconds and try again."
                )
        for device in devices:
            self.device = verify_token(self.user, device.persistent_id, code)
            if self.device is not None:
                return code
        raise forms.ValidationError(
            "That code is not right. Check the time on your phone and enter the newest code."
        )

    def _devices_for(self, code: str) -> list[Device]:
        """Six digits go to the authenticator app; anything else is a recovery code."""
        is_app_code = code.isdigit() and len(code) == 6
        return [d for d in self.devices if isinstance(d, TOTPDevice) == is_app_code]


@two_factor_not_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor_on(user):
        if user.is_verified():
            messages.info(request, "Two-factor sign-in is already on.")
            return redirect("two_factor")
        return redirect(f"{reverse('two_factor_verify')}?next={_next_url(request)}")
    device = totp_device(user, confirmed=False) or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=False
    )
    form = CodeForm(request.POST or None, user=user, devices=[device])
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        request.session[SESSION_NEW_CODES] = recovery_codes_generate(user)
        request.session[SESSION_TWO_FACTOR_ON] = True
        _verified(request, device)
        messages.success(request, "Two-factor sign-in is on.")
        return redirect(f"{reverse('two_factor_recovery_codes')}?next={_next_url(request)}")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_code": _qr_data_uri(device.config_url),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": user.must_use_two_factor,
            "next": _next_url(request),
        },
    )


def _verified_only(request: HttpRequest) -> HttpResponse | None:
    """Changing the second factor needs a session that has given it."""
    if request.user.is_verified():
        return None
    return redirect_to_login(request.get_full_path(), reverse("two_factor_verify"))


def _qr_data_uri(text: str) -> str:
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@two_factor_not_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    devices = [device for device in (totp_device(user), recovery_device(user)) if device]
    if not devices:
        return redirect("two_factor_setup" if user.must_use_two_factor else "two_factor")
    form = CodeForm(request.POST or None, user=user, devices=devices)
    if request.method == "POST" and form.is_valid():
        _verified(request, form.device)
        if isinstance(form.device, StaticDevice):
            left = form.device.token_set.count()
            messages.warning(
                request,
                f"You used a recovery code; {left} left. "
                "Make new ones from “Two-factor sign-in” in your menu if you are running low.",
            )
        return redirect(_next_url(request))
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@require_GET
def two_factor(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = recovery_device(user)
    return render(
        request,
        "registration/two_factor_manage.html",
        {
            "on": two_factor_on(user),
            "required": user.must_use_two_factor,
            "codes_left": device.token_set.count() if device else 0,
        },
    )


def two_factor_recovery_codes(request: HttpRequest) -> HttpResponse:
    """Shows codes once, right after they are made; POST makes a new set."""
    user = request.user
    if not two_factor_on(user):
        return redirect("two_factor")
    if denied := _verified_only(request):
        return denied
    if request.method == "POST":
        request.session[SESSION_NEW_CODES] = recovery_codes_generate(user)
        messages.success(request, "New recovery codes made: the old ones no longer work.")
        return redirect("two_factor_recovery_codes")
    codes = request.session.pop(SESSION_NEW_CODES, None)
    if not codes:
        return redirect("two_factor")
    return render(
        request,
        "registration/two_factor_recovery_codes.html",
        {"codes": codes, "next": _next_url(request)},
    )


@require_POST
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.must_use_two_factor:
        messages.error(request, "Practice managers and superusers must keep two-factor sign-in.")
        return redirect("two_factor")
    if not two_factor_on(user):
        return redirect("two_factor")
    if denied := _verified_only(request):
        return denied
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
    request.session[SESSION_TWO_FACTOR_ON] = False
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    messages.success(request, "Two-factor sign-in is off. Your password alone now signs you in.")
    return redirect("two_factor")


urlpatterns = [
    path("", two_factor, name="two_factor"),
    path("set-up/", two_factor_setup, name="two_factor_setup"),
    path("verify/", two_factor_verify, name="two_factor_verify"),
    path("recovery-codes/", two_factor_recovery_codes, name="two_factor_recovery_codes"),
    path("turn-off/", two_factor_disable, name="two_factor_disable"),
]
