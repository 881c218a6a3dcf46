"""Admin home page items of the sync (Admin role only)."""

from django.urls import reverse

from crmbridge import attention
from crmbridge.roles import ADMIN, has_role

from . import selectors


@attention.register
def sync_attention(request):
    if not has_role(request.user, ADMIN):
        return []
    return [
        attention.Attention(item["title"], item["detail"], reverse(item["url"]), item["level"],
                            item.get("count"))
        for item in selectors.sync_problems()
    ]  # fmt: skip
