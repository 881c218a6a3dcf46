"""Demo data of the sync (runs first): the embedded emulated org, seeded, pulled into the mirror."""

from django.conf import settings

import sfemulator
from integrations.salesforce import get_client
from sfemulator.seed import seed_demo

from .models import SyncRun
from .schedule import sync_schedules_ensure
from .services import sync_run_execute


def load_demo(out):
    config = getattr(settings, "SALESFORCE", {}) or {}
    path = config.get("EMULATOR")
    if path and not (config.get("INSTANCE_URL") or config.get("USERNAME")):
        org = sfemulator.Org(path)
        try:
            created = seed_demo(org)  # idempotent: a second run finds every row
        finally:
            org.close()
        out.write(
            f"  emulated org at {path}: " + ", ".join(f"{k} +{v}" for k, v in created.items())
        )
    elif not path and not config.get("INSTANCE_URL"):
        out.write("  no Salesforce configured (SALESFORCE_EMULATOR unset): nothing to pull")
        return
    get_client()
    sync_schedules_ensure()
    run = sync_run_execute(kind=SyncRun.Kind.FULL, trigger=SyncRun.Trigger.DEMO)
    counts = ", ".join(f"{k} {v.get('pulled', 0)}" for k, v in sorted(run.counts.items()))
    out.write(f"  sync #{run.pk}: {run.get_state_display()}; pulled {counts or 'nothing new'}")
