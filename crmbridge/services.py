"""Writes to the organisation's settings."""

from django.db import transaction

from .models import GlobalSettings


def normalise_domain_list(domains):
    """Lower-case, strip a leading '@' or 'www.', drop duplicates, keep the order given."""
    seen = []
    for domain in domains:
        clean = domain.strip().lower().lstrip("@").removeprefix("www.").rstrip(".")
        if clean and clean not in seen:
            seen.append(clean)
    return seen


@transaction.atomic
def global_settings_update(*, changes: dict) -> GlobalSettings:
    """Apply `changes` (field name -> value) to the one Global Settings row, validated."""
    obj = GlobalSettings.objects.select_for_update().get(pk=GlobalSettings.load().pk)
    for field, value in changes.items():
        setattr(obj, field, value)
    obj.full_clean()
    obj.save()
    if "sync_interval_minutes" in changes:
        from integrations.sync.schedule import sync_schedules_follow_settings

        sync_schedules_follow_settings()  # the sync schedule follows the new interval at once
    return obj
