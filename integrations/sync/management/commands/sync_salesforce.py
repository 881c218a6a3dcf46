"""python manage.py sync_salesforce [--full] [--pull-only | --push-only]: one sync, inline."""

from django.core.management.base import BaseCommand, CommandError

from integrations.sync.models import SyncRun
from integrations.sync.services import sync_run_execute


class Command(BaseCommand):
    help = (
        "Run one Salesforce sync now, in this process: pull what changed (everything with "
        "--full) into the mirror, then push the outbox. Prints progress and a summary."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--full", action="store_true", help="pull every record, not only changes"
        )
        only = parser.add_mutually_exclusive_group()
        only.add_argument("--pull-only", action="store_true", help="pull what changed, no push")
        only.add_argument("--push-only", action="store_true", help="push the outbox only")

    def handle(self, *args, **options):
        if options["full"]:
            kind = SyncRun.Kind.FULL  # every record pulled, then the outbox pushed
        elif options["pull_only"]:
            kind = SyncRun.Kind.PULL
        elif options["push_only"]:
            kind = SyncRun.Kind.PUSH
        else:
            kind = SyncRun.Kind.SYNC
        verbosity = options["verbosity"]

        def progress(runlog, text):
            if verbosity >= 1:
                self.stdout.write(f"  {text} (API calls so far: {runlog.api_calls})")

        run = sync_run_execute(kind=kind, trigger=SyncRun.Trigger.COMMAND, progress=progress)
        self.stdout.write(self.summary(run))
        if run.state in (SyncRun.State.FAILED, SyncRun.State.SKIPPED):
            raise CommandError(run.message or run.get_state_display())

    @staticmethod
    def summary(run) -> str:
        lines = [
            f"Sync #{run.pk} {run.get_state_display().lower()} "
            f"({run.get_kind_display().lower()}), {run.api_calls} API calls"
        ]
        for sobject, per in sorted((run.counts or {}).items()):
            figures = ", ".join(f"{k} {v}" for k, v in sorted(per.items()))
            lines.append(f"  {sobject}: {figures}")
        if run.message:
            lines.append(f"  {run.message}")
        return "\n".join(lines)
