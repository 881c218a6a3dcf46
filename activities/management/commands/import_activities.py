"""Load activities from a JSON Lines file (one activity object per line, as the API takes it)."""

import json
import sys
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from activities.services import MAX_BULK, REJECTED, activity_ingest_many


class Command(BaseCommand):
    help = (
        "Import activities from a JSON Lines file: one activity per line, the same fields as "
        "POST /api/v1/activities/. Prints created / already present / rejected with reasons."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .jsonl file ('-' for standard input).")
        parser.add_argument("--source", default="import", help='Default source (default "import").')
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--show-rejected", type=int, default=20, help="How many rejections to list."
        )

    def handle(self, *args, **options):
        batch_size = max(1, min(options["batch_size"], MAX_BULK))
        try:
            if options["file"] == "-":
                handle = sys.stdin
            else:
                handle = open(options["file"], encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        counts, rejected = Counter(), []
        with handle:
            lines = list(handle)
        bar = tqdm(
            total=len(lines),
            unit="activity",
            disable=options["no_progress"],
            file=sys.stderr,
        )
        batch, numbers = [], []

        def flush():
            results = activity_ingest_many(items=batch, default_source=options["source"])
            for number, result in zip(numbers, results, strict=True):
                counts[result.status] += 1
                if result.status == REJECTED:
                    rejected.append((number, result.errors))
            bar.update(len(batch))
            batch.clear()
            numbers.clear()

        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                batch.append(json.loads(line))
            except json.JSONDecodeError as exc:
                counts[REJECTED] += 1
                rejected.append((number, {"json": [str(exc)]}))
                bar.update(1)
                continue
            numbers.append(number)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        bar.close()
        self.stdout.write(
            f"created {counts['created']}, already present {counts['existing']}, "
            f"rejected {counts[REJECTED]}"
        )
        for number, errors in rejected[: options["show_rejected"]]:
            reasons = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
            self.stdout.write(f"  line {number}: {reasons}")
        if len(rejected) > options["show_rejected"]:
            self.stdout.write(f"  ... and {len(rejected) - options['show_rejected']} more")
        return None
