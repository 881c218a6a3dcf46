import importlib
import os
import secrets

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from crmbridge.demo import DEMO_ORDER, DEMO_USERS, demo_users_create


class Command(BaseCommand):
    help = "Create the demo users and load every app's demo data. Safe to run again."

    def handle(self, *args, **options):
        password = demo_users_create(password=self._demo_password())
        for label in DEMO_ORDER:
            config = apps.get_app_config(label)
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            if hasattr(module, "load_demo"):
                self.stdout.write(f"Loading demo data: {config.verbose_name}")
                module.load_demo(self.stdout)
        users = ", ".join(name for name, *_ in DEMO_USERS)
        self.stdout.write(self.style.SUCCESS(f"Demo users: {users} — password: {password}"))

    def _demo_password(self):
        """DEMO_PASSWORD, else the one made on the first run (kept under var/), else a new one."""
        if os.environ.get("DEMO_PASSWORD"):
            return os.environ["DEMO_PASSWORD"]
        kept = settings.VAR_DIR / "demo-password"
        if not kept.exists():
            kept.parent.mkdir(exist_ok=True)
            kept.write_text(secrets.token_urlsafe(9))
            kept.chmod(0o600)
        return kept.read_text().strip()
