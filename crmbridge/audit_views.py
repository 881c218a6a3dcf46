"""The audit trail page of the control panel (Admins only)."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.http import urlencode

from .audit import actors, audit_page, tracked_models
from .roles import ADMIN, has_role


def audit_view(site, request):
    if not has_role(request.user, ADMIN):
        raise PermissionDenied
    models = tracked_models()
    model_label = request.GET.get("model") or None
    actor = request.GET.get("actor") or None
    actor_id = int(actor) if actor and actor.isdigit() else (-1 if actor else None)
    page, entries = audit_page(
        model_label=model_label, actor_id=actor_id, page=request.GET.get("page")
    )
    kept = {k: v for k, v in (("model", model_label), ("actor", actor)) if v}
    context = {
        **site.each_context(request),
        "title": "Audit trail",
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number) if entries else [],
        "entries": entries,
        "models": [(label, model._meta.verbose_name) for label, model in models.items()],
        "actors": actors(),
        "chosen_model": model_label or "",
        "chosen_actor": actor or "",
        "filters": urlencode(kept),
    }
    return TemplateResponse(request, "admin/crmbridge/audit.html", context)
