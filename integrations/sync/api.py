"""REST API of the sync: runs (list, detail, start one) and the dashboard figures (Admin)."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crmbridge.api import IsAdminRole

from . import selectors, services
from .models import SyncRun, SyncRunError


class SyncRunErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncRunError
        fields = ["direction", "sobject", "record", "error_code", "message", "outbox_item"]


class SyncRunSerializer(serializers.ModelSerializer):
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    errors = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "kind",
            "trigger",
            "state",
            "started_at",
            "finished_at",
            "started_by",
            "counts",
            "api_calls",
            "progress",
            "message",
            "errors",
        ]
        read_only_fields = fields

    @extend_schema_field(SyncRunErrorSerializer(many=True, allow_null=True))
    def get_errors(self, obj):
        if not self.context.get("with_errors"):
            return None
        return SyncRunErrorSerializer(obj.errors.all()[:500], many=True).data


class SyncRunRequestSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        default=False, help_text="Pull everything, not only what changed."
    )
    kind = serializers.ChoiceField(
        choices=[SyncRun.Kind.SYNC, SyncRun.Kind.PULL, SyncRun.Kind.PUSH],
        default=SyncRun.Kind.SYNC,
    )


@extend_schema(tags=["sync"])
class SyncRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Salesforce sync runs. POST starts one now (queued; poll its `state` and `progress`)."""

    serializer_class = SyncRunSerializer
    permission_classes = [IsAdminRole]
    queryset = SyncRun.objects.select_related("started_by").order_by("-started_at", "-id")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_errors": self.action == "retrieve"}

    @extend_schema(request=SyncRunRequestSerializer, responses={202: SyncRunSerializer})
    def create(self, request):
        params = SyncRunRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        kind = SyncRun.Kind.FULL if params.validated_data["full"] else params.validated_data["kind"]
        run = services.sync_run_request(kind=kind, trigger=SyncRun.Trigger.API, user=request.user)
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"])
    def status(self, request):
        """Next runs, API usage against the budget, outbox backlog, what needs an admin."""
        return Response(
            {
                "next_runs": selectors.next_runs(),
                "api_usage": selectors.api_usage(),
                "outbox": selectors.outbox_backlog(),
                "problems": [
                    {k: v for k, v in p.items() if k != "url"} for p in selectors.sync_problems()
                ],
            }
        )
