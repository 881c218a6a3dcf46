"""/healthz: is each part crmbridge needs up? 200 when all are, 503 when one is not."""

import logging

from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

logger = logging.getLogger(__name__)


def _database():
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    return "ok"


def _task_broker():
    broker = get_broker()
    if not broker.ping():
        raise RuntimeError("the broker did not answer")
    return broker.info()


CHECKS = {"database": _database, "task_broker": _task_broker}


@never_cache
@require_GET
def healthz(request):
    components, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            components[name] = {"status": "ok", "detail": str(check())}
        except Exception as exc:  # any failure of a component is a 503, never a 500
            logger.warning("healthz: %s is down: %s", name, exc.__class__.__name__)
            components[name] = {"status": "down", "detail": exc.__class__.__name__}
            healthy = False
    return JsonResponse(
        {"status": "ok" if healthy else "down", "components": components},
        status=200 if healthy else 503,
    )
