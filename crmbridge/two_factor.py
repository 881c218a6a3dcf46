"""Two-factor authentication for staff (django-otp, TOTP).

- A user with a confirmed device types its code at login; a session signed in without one is
  not let in (the control panel, and the API through a session).
- With Global Settings' switch on, an Admin without a confirmed device reaches only the
  enrolment page: not the control panel, so no API token either.
- Enrolment shows a QR code and the secret while enrolling; each visit makes a fresh secret,
  and once the device is confirmed the secret is never shown again (nor exported).
- A lost device: an Admin resets it (deletes it) on the Two-factor devices page; the user then
  signs in with the password and enrols anew.
"""

import base64

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.authentication import SessionScheme
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication

from .models import GlobalSettings
from .roles import ADMIN, has_role

ENROLMENT_SESSION_KEY = "crmbridge_totp_enrolment"
CODE_HELP = "The 6-digit code your authenticator app shows for crmbridge."


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def must_enrol(user) -> bool:
    """An Admin without a confirmed device while Global Settings require one."""
    return (
        GlobalSettings.load().two_factor_required_for_admins
        and has_role(user, ADMIN)
        and confirmed_device(user) is None
    )


def session_verified(user) -> bool:
    """False for a user with a confirmed device whose session has not typed its code."""
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return True
    return confirmed_device(user) is None


def _code_field():
    return forms.CharField(
        label="Authentication code",
        required=False,
        max_length=10,
        help_text=CODE_HELP,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
    )


def _verify(device, code):
    """True when the code is right; django-otp throttles repeated failures per device."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _ = device.verify_is_allowed()
        return allowed and bool(code) and device.verify_token(code.strip())


class LoginForm(AdminAuthenticationForm):
    """The admin login with the code asked of users who have a confirmed device."""

    otp_token = _code_field()

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = confirmed_device(user) if user is not None else None
        if device is not None:
            if not _verify(device, cleaned.get("otp_token") or ""):
                raise forms.ValidationError(
                    "Enter the current code from your authenticator app (two-factor "
                    "authentication is on for this account).",
                    code="otp_required",
                )
            user.otp_device = device  # django-otp marks the session verified at login
        return cleaned


class EnrolForm(forms.Form):
    otp_token = _code_field()


def _qr_svg(url):
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage)
    # Our own data drawn as paths: no text of it in the markup.
    svg = image.to_string(encoding="unicode")
    return mark_safe(svg.replace("<svg ", '<svg role="img" aria-label="QR code to scan" ', 1))  # noqa: S308


def _grouped(secret):
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enrol_view(site, request):
    context = {**site.each_context(request), "title": "Two-factor authentication"}
    device = confirmed_device(request.user)
    if device is not None:
        context["device"] = device
        return TemplateResponse(request, "admin/crmbridge/two_factor.html", context)

    form = EnrolForm(request.POST or None)
    pending = TOTPDevice.objects.filter(
        user=request.user, confirmed=False, pk=request.session.get(ENROLMENT_SESSION_KEY)
    ).first()
    if request.method == "POST" and pending is not None and form.is_valid():
        if _verify(pending, form.cleaned_data["otp_token"]):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
            request.session.pop(ENROLMENT_SESSION_KEY, None)
            otp_login(request, pending)
            messages.success(request, "Two-factor authentication is on for your account.")
            return redirect("admin:index")
        form.add_error("otp_token", "That code is not right: scan the new code and try again.")
    # A fresh secret each time it is shown: a secret once shown is never shown again.
    TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    pending = TOTPDevice.objects.create(
        user=request.user, name="Authenticator app", confirmed=False
    )
    request.session[ENROLMENT_SESSION_KEY] = pending.pk
    secret = base64.b32encode(pending.bin_key).decode().rstrip("=")
    context |= {
        "form": form,
        "qr_svg": _qr_svg(pending.config_url),
        "secret": _grouped(secret),
        "required": must_enrol(request.user),
    }
    return TemplateResponse(request, "admin/crmbridge/two_factor.html", context)


class VerifiedSessionAuthentication(SessionAuthentication):
    """The API through a browser session: only a session the control panel would let in."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            user = request._request.user
            if must_enrol(user) or not session_verified(user):
                raise exceptions.PermissionDenied(
                    "Two-factor authentication: sign in to the control panel with your code "
                    "(or enrol) first."
                )
        return result


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI schema describes it as the session cookie it is."""

    target_class = VerifiedSessionAuthentication
