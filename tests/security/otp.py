"""Two-factor sign-in for tests: an authenticator-app device, its codes, a verified session."""

from django.test import Client
from django.test.client import ClientMixin
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import User


def totp_device_for(user: User) -> TOTPDevice:
    """The person's confirmed authenticator app, added if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The six digits the app shows right now."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def session_verify(client: Client, user: User) -> TOTPDevice:
    """Mark the client's session as having given the second factor, as the verify step does."""
    device = totp_device_for(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def sign_in_with_password_only(client: Client, user: User) -> Client:
    """A session that has given the password but not yet the second factor."""
    ClientMixin.force_login(client, user)
    return client
