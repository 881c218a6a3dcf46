"""Two-factor authentication for staff (django-otp, TOTP): an enrolment page with a QR code and
the secret shown while enrolling only; the code asked at login once a device is confirmed; with
Global Settings' switch on, an Admin without a confirmed device reaches nothing but the enrolment
page (no control panel, no API token); an Admin resets a lost device."""

import base64
import re
import time

import pytest
from django.contrib import admin
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from import_export.admin import ExportMixin
from rest_framework.authtoken.models import Token

from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN
from tests.factories import PASSWORD
from tests.security.test_secrets import _admin_pages_without

pytestmark = pytest.mark.django_db

ENROL = "/admin/two-factor/"


def _code(key: bytes, steps_ahead=0):
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def _login(client, user, code=None):
    data = {"username": user.username, "password": PASSWORD, "next": "/admin/"}
    if code is not None:
        data["otp_token"] = code
    return client.post("/admin/login/", data)


def _enrol(client, user):
    """Logs in with the password and enrols as a person would: reads the secret, types a code."""
    assert _login(client, user).status_code == 302
    page = client.get(ENROL).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert client.post(ENROL, {"otp_token": _code(key)}).status_code == 302
    return key, page


def _require_two_factor():
    settings = GlobalSettings.load()
    settings.two_factor_required_for_admins = True
    settings.save()


def test_it_enrols_with_a_qr_code_and_shows_the_secret_only_while_enrolling(client, admin_member):
    key, page = _enrol(client, admin_member)
    assert '<div class="qr-code"><svg' in page  # the QR code drawn as SVG
    assert "otpauth" not in page
    device = TOTPDevice.objects.get(user=admin_member)
    assert device.confirmed and device.bin_key == key

    after = client.get(ENROL).content.decode()
    assert "Two-factor authentication is on" in after
    secret = base64.b32encode(key).decode().rstrip("=")
    assert secret not in after
    assert device.key not in after
    assert "qr-code" not in after
    # The session that enrolled is a verified one: the control panel opens.
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_does_not_confirm_the_device(client, admin_member):
    _login(client, admin_member)
    client.get(ENROL)
    page = client.post(ENROL, {"otp_token": "000000"}).content.decode()
    assert "That code is not right" in page
    assert not TOTPDevice.objects.filter(user=admin_member, confirmed=True).exists()


def test_login_asks_for_the_code_once_a_device_is_confirmed(client, csm_user, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's backoff after the wrong code below
    key, _ = _enrol(client, csm_user)
    client.post("/admin/logout/")

    without = _login(client, csm_user)
    assert without.status_code == 200
    assert "authenticator app" in without.content.decode()
    assert client.get("/admin/").status_code == 302
    wrong = _login(client, csm_user, "000000")
    assert wrong.status_code == 200 and client.get("/admin/").status_code == 302

    assert _login(client, csm_user, _code(key, steps_ahead=1)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_session_that_skipped_the_code_is_refused(client, admin_member):
    TOTPDevice.objects.create(user=admin_member, name="phone", confirmed=True)
    client.force_login(admin_member)  # signed in without a code
    assert client.get("/admin/").status_code == 302
    assert client.get("/api/v1/settings/").status_code == 403


def test_when_required_an_admin_without_a_device_reaches_only_the_enrolment_page(
    client, admin_member, csm_user
):
    _require_two_factor()
    assert _login(client, admin_member).status_code == 302
    for url in [
        "/admin/",
        "/admin/crmbridge/globalsettings/1/change/",
        "/admin/authtoken/tokenproxy/add/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(ENROL), url
    client.post("/admin/authtoken/tokenproxy/add/", {"user": admin_member.pk})
    assert not Token.objects.filter(user=admin_member).exists()
    assert client.get("/api/v1/settings/").status_code == 403
    assert client.get(ENROL).status_code == 200

    # A CSM is not asked to enrol (the switch is for Admins).
    other = client.__class__()
    assert _login(other, csm_user).status_code == 302
    assert other.get("/admin/").status_code == 200


def test_when_required_an_enrolled_admin_works_as_before(client, admin_member):
    _require_two_factor()
    _enrol(client, admin_member)
    assert client.get("/admin/").status_code == 200
    page = client.get("/admin/authtoken/tokenproxy/add/")
    assert page.status_code == 200


def test_the_secret_is_never_shown_after_enrolment(client, admin_member, csm_user):
    key, _ = _enrol(client, csm_user)
    device = TOTPDevice.objects.get(user=csm_user)
    secret = base64.b32encode(key).decode().rstrip("=")
    admin_client = client.__class__()
    _enrol(admin_client, admin_member)
    base = "/admin/otp_totp/totpdevice/"
    for url in [base, f"{base}{device.pk}/change/", f"{base}{device.pk}/history/"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert device.key not in text and secret not in text, url
    # django-otp's own pages with the QR code and the key are gone.
    for extra in ("config/", "qrcode/"):
        response = admin_client.get(f"{base}{device.pk}/{extra}", follow=True)
        text = response.content.decode()
        assert device.key not in text and secret not in text and "<svg viewBox" not in text


def test_an_admin_resets_a_lost_device(client, admin_member, csm_user):
    _enrol(client, csm_user)
    device = TOTPDevice.objects.get(user=csm_user)
    admin_client = client.__class__()
    _enrol(admin_client, admin_member)
    response = admin_client.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "reset_two_factor", "_selected_action": [device.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=csm_user).exists()
    fresh = client.__class__()
    assert _login(fresh, csm_user).status_code == 302  # the password alone, then enrol anew
    assert fresh.get("/admin/").status_code == 200


def test_a_csm_cannot_reset_anyones_device(client, admin_member, csm_user):
    _enrol(client, admin_member)
    device = TOTPDevice.objects.get(user=admin_member)
    csm = client.__class__()
    _login(csm, csm_user)
    response = csm.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "reset_two_factor", "_selected_action": [device.pk], "post": "yes"},
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=admin_member).exists()


def test_a_devices_secret_is_on_no_admin_page_and_in_no_export(client, world, csm_user):
    key, _ = _enrol(client, csm_user)
    device = TOTPDevice.objects.get(user=csm_user)
    secrets = (device.key, base64.b32encode(key).decode().rstrip("="))
    admin_client = Client()
    admin_client.force_login(world[ADMIN])  # no device of its own: a verified session
    assert _admin_pages_without(admin_client, world[ADMIN], secrets) > 30
    for model_admin in admin.site._registry.values():
        if isinstance(model_admin, ExportMixin):
            opts = model_admin.model._meta
            exported = admin_client.post(
                f"/admin/{opts.app_label}/{opts.model_name}/export/",
                {"format": "0", "resource": "0"},
            )
            for secret in secrets:
                assert secret not in exported.content.decode(errors="replace"), opts.label
