"""The history pages of every model django-simple-history's admin serves: a role without the
change permission may look at an old version (when it may view the model) but never save it
back, whatever it POSTs. Walks `admin.site._registry`, so a model given history tomorrow is
covered without a new test."""

import pytest
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import AccountDomain
from classification.models import ClassificationRule
from classification.services import rule_create
from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, CSM, REP
from integrations.dialer.models import DialerProject, Integration
from integrations.dialer.services import integration_save
from tests.factories import AccountFactory, DialerProjectFactory
from tests.security.conftest import admin_request, registered_models

pytestmark = pytest.mark.django_db

HISTORY_MODELS = [
    model._meta.label
    for model, model_admin in registered_models()
    if isinstance(model_admin, SimpleHistoryAdmin)
]


def _admin_for(label):
    from django.apps import apps
    from django.contrib import admin

    model = apps.get_model(label)
    return model, admin.site._registry[model]


def _form_data(model_admin, obj, admin_user):
    """What the revert form would POST for this version, field by field."""
    form = model_admin.get_form(admin_request(admin_user), obj)(instance=obj)
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form[name].value())
        if value is None:
            data[name] = ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value)
    return data


def _history_url(model, obj, version=None):
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    if version is None:
        return reverse(f"{info}_history", args=[obj.pk])
    return reverse(f"{info}_simple_history", args=[obj.pk, version.history_id])


def test_the_walk_covers_the_settings_and_the_rules():
    assert {"crmbridge.GlobalSettings", "classification.ClassificationRule"} <= set(HISTORY_MODELS)


@pytest.mark.parametrize("label", HISTORY_MODELS)
@pytest.mark.parametrize("role", [ADMIN, CSM, REP])
def test_a_role_without_change_permission_cannot_save_through_a_history_page(
    client, role_users, world, role, label
):
    model, model_admin = _admin_for(label)
    admin_user = role_users[ADMIN]
    obj = model_admin.get_queryset(admin_request(admin_user)).order_by("pk").first()
    if obj is None:
        obj = _make_one(model)
    if not obj.history.exists():
        obj.save()
    version = obj.history.order_by("history_id").first()
    user = role_users[role]
    request = admin_request(user, "post")
    may_change = model_admin.has_change_permission(request, obj)
    may_view = model_admin.has_view_or_change_permission(request, obj)
    before = obj.history.count()
    client.force_login(user)

    page = client.get(_history_url(model, obj, version))
    listing = client.get(_history_url(model, obj))
    response = client.post(
        _history_url(model, obj, version), _form_data(model_admin, obj, admin_user)
    )

    if may_view:
        assert page.status_code == 200 and listing.status_code == 200, (role, label)
    else:
        assert page.status_code == 403 and listing.status_code == 403, (role, label)
    if may_change:
        assert response.status_code in (200, 302), (role, label)
    else:
        assert response.status_code == 403, (role, label, response.status_code)
        assert obj.history.count() == before, (role, label)


def _make_one(model):
    """A row for a model the security world leaves empty, made through its service."""
    if model is ClassificationRule:
        return rule_create(keyword="Information Systems", dimension="department", value="IT")[0]
    if model is AccountDomain:
        return AccountDomain.objects.create(account=AccountFactory(), domain="acme-eu.com")
    if model is DialerProject:
        return DialerProjectFactory()
    if model is Integration:
        integration = Integration(project=DialerProjectFactory(), name="Yes", action="update_only")
        return integration_save(integration=integration, result_codes=["YES"])
    return model.load()  # the singletons


def test_a_csm_cannot_change_global_settings_through_the_history_page(client, csm_user):
    settings = GlobalSettings.load()
    settings.save()
    version = settings.history.order_by("history_id").first()
    client.force_login(csm_user)

    response = client.post(
        _history_url(GlobalSettings, settings, version),
        {
            "create_as": "lead",
            "sync_interval_minutes": "1440",
            "api_budget_percent": "1",
            "internal_domains": '["customer.example"]',
            "extra_personal_domains": "[]",
            "required_contact_fields": "[]",
        },
    )

    assert response.status_code == 403
    settings = GlobalSettings.load()
    assert (settings.sync_interval_minutes, settings.api_budget_percent) == (30, 20)
    assert "customer.example" not in (settings.internal_domains or [])
