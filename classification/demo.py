"""Demo data of title classification (runs after the sync demo pulled the org's Contacts).

Loads the starter seniority pack and PRODUCT.md's department example rules (idempotent: phrases
already present are kept), pulls the Contact picklist values when the org is reachable, and
classifies the mirror's contacts at once (the same service the background task runs).
"""

from integrations.salesforce import SalesforceError

from . import services
from .models import ReclassificationRun


def load_demo(out):
    def say(message):
        out.write(message + "\n")

    try:
        added = services.classification_values_refresh_from_salesforce()
        say(f"  values from Salesforce: {sum(len(v) for v in added.values())} new")
    except SalesforceError as exc:
        say(f"  values from Salesforce skipped ({exc.message})")
    for pack in ("seniority_starter", "department_examples"):
        result = services.rulepack_load(name=pack)
        say(f"  rule pack {pack}: {result['created']} added, {result['skipped']} present")
    run = services.reclassification_enqueue(reason="demo")
    run = services.contacts_reclassify(run_id=run.pk)
    if run.state != ReclassificationRun.State.DONE:
        say(f"  re-classification {run.state}: {run.error}")
    else:
        say(
            f"  contacts classified: {run.processed} looked at, {run.changed} changed, "
            f"{run.outbox_queued} Salesforce updates queued"
        )
