"""Run capture inline, with a progress bar and the run's summary."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from integrations.capture.models import CaptureRun, CaptureSource
from integrations.capture.run import MAX_ITEMS_PER_RUN, capture_run_create, capture_run_execute


class Command(BaseCommand):
    help = (
        "Capture now from every enabled source (or one, with --source ID): e-mails and meetings "
        "become activities. Prints seen, captured, updated, already present, skipped by reason "
        "and errors for each source."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", type=int, help="Only this source (its id).")
        parser.add_argument(
            "--limit", type=int, default=MAX_ITEMS_PER_RUN, help="Most items per source and run."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        sources = CaptureSource.objects.select_related("owner").order_by("pk")
        if options["source"] is not None:
            sources = sources.filter(pk=options["source"])
            if not sources.exists():
                raise CommandError(f"There is no capture source {options['source']}.")
        else:
            sources = sources.filter(enabled=True)
        failed = 0
        for source in sources:
            with tqdm(
                desc=str(source)[:40],
                unit="item",
                disable=options["no_progress"],
                file=sys.stderr,
            ) as bar:
                run = capture_run_execute(
                    run=capture_run_create(source=source),
                    limit=max(1, options["limit"]),
                    progress=bar.update,
                )
            self.stdout.write(self._summary(source, run))
            failed += run.state == CaptureRun.State.FAILED
        if failed:
            raise CommandError(f"{failed} source(s) could not be read; see the errors above.")

    def _summary(self, source, run):
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(run.skipped.items())) or "none"
        lines = [
            f"{source} (source {source.pk}): {run.get_state_display()}",
            f"  seen {run.seen}, captured {run.captured}, updated {run.updated}, "
            f"already present {run.already_present}",
            f"  skipped: {skipped}",
        ]
        lines += [f"  error: {error}" for error in run.errors]
        if run.more_to_do:
            lines.append("  more is waiting: run again to continue from here")
        return "\n".join(lines)
