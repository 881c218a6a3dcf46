"""Writes to the organisation's settings."""

from django.db import transaction

from .models import GlobalSettings
from .signals import global_settings_changed


def normalise_domain_list(domains):
    """Lower-case, strip a leading '@' or 'www.', drop duplicates, keep the order given."""
    seen = []
    for domain in domains:
        clean = domain.strip().lower().lstrip("@").removeprefix("www.").rstrip(".")
        if clean and clean not in seen:
            seen.append(clean)
    return seen


@transaction.atomic
def global_settings_update(*, changes: dict, user=None) -> GlobalSettings:
    """Apply `changes` (field name -> value) to the one Global Settings row, validated; `user`
    is who the history records."""
    obj = GlobalSettings.objects.select_for_update().get(pk=GlobalSettings.load().pk)
    for field, value in changes.items():
        setattr(obj, field, value)
    obj.full_clean()
    if user is not None:
        obj._history_user = user  # django-simple-history's "changed by"
    obj.save()
    global_settings_changed.send(sender=GlobalSettings, settings=obj, changed=set(changes))
    return obj
