"""What the read-only admins of the activity feed share."""

from django.contrib import admin

from .selectors import activity_rows_visible_to


class FeedRecordAdmin(admin.ModelAdmin):
    """A read-only record of the feed (match edits, contact decisions): shown where its activity
    is visible, never added, changed or deleted by hand."""

    def get_queryset(self, request):
        return activity_rows_visible_to(user=request.user, query=super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
