"""REST API of activities: ingestion (one, or up to 1,000 in bulk) and the matched result.

A Rep sees and sends only their own activities; Admins (and CSMs, read-only) see all.
"""

from django.conf import settings
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, pagination, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crmbridge.api import IsAnyRole
from crmbridge.roles import ADMIN, REP, has_role

from . import services
from .contract import MAX_BODY_CHARS, MAX_PARTICIPANTS, ActivityInSerializer, BulkInSerializer
from .models import Activity, Participant
from .selectors import activities_visible_to


def _ref(obj):
    if obj is None:
        return None
    return {"sf_id": obj.sf_id, "name": str(obj)}


class RecordRefSerializer(serializers.Serializer):
    sf_id = serializers.CharField(help_text="Salesforce Id (empty until pushed).")
    name = serializers.CharField()


class ParticipantMatchSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Participant.MatchedKind.choices)
    rule = serializers.CharField(help_text="Which rule matched, e.g. contact_email, domain.")
    contact = RecordRefSerializer(allow_null=True)
    lead = RecordRefSerializer(allow_null=True)
    account = RecordRefSerializer(allow_null=True)


class ActivityMatchSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Activity.MatchStatus.choices)
    account = RecordRefSerializer(allow_null=True)
    opportunity = RecordRefSerializer(allow_null=True)
    reason_code = serializers.CharField()
    reason = serializers.CharField(help_text="Why, in words a rep understands.")
    edited = serializers.BooleanField(help_text="A person chose this match (Edit match).")


class ActivityFilterSerializer(serializers.Serializer):
    """The list's filters; an unknown value is a 400 naming the filter."""

    match_status = serializers.ChoiceField(choices=Activity.MatchStatus.choices, required=False)
    status = serializers.ChoiceField(
        choices=Activity.MatchStatus.choices,
        required=False,
        help_text="The same as match_status (kept for existing clients).",
    )
    kind = serializers.ChoiceField(choices=Activity.Kind.choices, required=False)
    account = serializers.CharField(required=False, help_text="The Account's Salesforce Id.")
    owner = serializers.EmailField(required=False, help_text="The rep's e-mail (Admins, CSMs).")


LIMITS = (
    f"Limits (each over-limit item is rejected with a 400 naming the field): at most "
    f"{MAX_PARTICIPANTS} participants per activity, a body of at most "
    f"{MAX_BODY_CHARS} characters, {services.MAX_BULK} activities per bulk call; a "
    f"request body over {settings.MAX_REQUEST_BYTES} bytes is a 400 before it is read."
)


class ParticipantSerializer(serializers.ModelSerializer):
    matched = serializers.SerializerMethodField(help_text="What this participant matched.")
    reason = serializers.CharField(source="match_reason", read_only=True)

    class Meta:
        model = Participant
        fields = [
            "email",
            "name",
            "role",
            "title",
            "phone",
            "country",
            "response",
            "domain",
            "is_internal",
            "matched",
            "reason",
        ]

    @extend_schema_field(ParticipantMatchSerializer(allow_null=True))
    def get_matched(self, obj) -> dict | None:
        if not obj.matched_kind:
            return None
        return {
            "kind": obj.matched_kind,
            "rule": obj.match_rule,
            "contact": _ref(obj.contact),
            "lead": _ref(obj.lead),
            "account": _ref(obj.account),
        }


class ActivitySerializer(serializers.ModelSerializer):
    owner = serializers.EmailField(source="owner.email", read_only=True)
    match = serializers.SerializerMethodField()
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "source",
            "external_id",
            "kind",
            "occurred_at",
            "ends_at",
            "owner",
            "subject",
            "body",
            "created_at",
            "match",
            "participants",
        ]

    @extend_schema_field(ActivityMatchSerializer)
    def get_match(self, obj) -> dict:
        return {
            "status": obj.match_status,
            "account": _ref(obj.account),
            "opportunity": _ref(obj.opportunity),
            "reason_code": obj.match_reason_code,
            "reason": obj.match_reason,
            "edited": obj.match_edited,
        }


class _AnsweredActivitySerializer(ActivitySerializer):
    """ActivitySerializer over `shown_participants` (see ActivityViewSet._answered): what an
    ingestion call answers, without reading back what it has just stored."""

    participants = ParticipantSerializer(many=True, read_only=True, source="shown_participants")


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["created", "existing", "rejected"])
    activity = ActivitySerializer(required=False, help_text="Unless rejected.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="When rejected: field -> reasons.",
    )


class BulkSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    rejected = serializers.IntegerField()


class BulkResponseSerializer(serializers.Serializer):
    summary = BulkSummarySerializer()
    results = BulkItemResultSerializer(many=True)


class MaySendActivity(permissions.BasePermission):
    message = "Only Admins and Reps send activities."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return has_role(request.user, ADMIN, REP)


class FeedPagination(pagination.CursorPagination):
    """No COUNT(*): the feed may hold millions of activities."""

    ordering = ("-occurred_at", "-id")
    page_size = 50


def _participants_prefetch():
    return Prefetch(
        "participants",
        queryset=Participant.objects.select_related("contact", "lead", "account").order_by("pk"),
    )


@extend_schema(tags=["activities"])
class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Activities and how each was matched to a Salesforce Account, with the reasons.

    Filters: `match_status` (or `status`), `kind`, `account` (Salesforce Id), `owner` (e-mail).
    """

    serializer_class = ActivitySerializer
    permission_classes = [IsAnyRole, MaySendActivity]
    pagination_class = FeedPagination

    def get_queryset(self):
        query = (
            activities_visible_to(user=self.request.user)
            .select_related("owner", "account", "opportunity")
            .prefetch_related(_participants_prefetch())
        )
        if self.action != "list":
            return query
        filters = ActivityFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        given = filters.validated_data
        status_value = given.get("match_status") or given.get("status")
        if status_value:
            query = query.filter(match_status=status_value)
        if given.get("kind"):
            query = query.filter(kind=given["kind"])
        if given.get("account"):
            query = query.filter(account__sf_id=given["account"])
        if given.get("owner"):
            query = query.filter(owner__email__iexact=given["owner"])
        return query

    @extend_schema(parameters=[ActivityFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _answered(self, results) -> list:
        """The activity of each accepted result, with `shown_participants`. One this call created
        is shown as stored, from memory: the call built its owner, match and participants (in pk
        order) and wrote them as they are. An existing one is read back."""
        reread = {r.activity.pk: None for r in results if r.participants is None}
        if reread:
            query = (
                Activity.objects.filter(pk__in=list(reread))
                .select_related("owner", "account", "opportunity")
                .prefetch_related(_participants_prefetch())
            )
            for activity in query:
                activity.shown_participants = list(activity.participants.all())
                reread[activity.pk] = activity
        shown = []
        for result in results:
            if result.participants is None:
                shown.append(reread[result.activity.pk])
            else:
                result.activity.shown_participants = result.participants
                shown.append(result.activity)
        return shown

    @extend_schema(
        description="Send one activity: 201 when new, 200 when this source + external_id "
        "exists already.\n\n" + LIMITS,
        request=ActivityInSerializer,
        responses={
            201: ActivitySerializer,
            200: OpenApiResponse(ActivitySerializer, description="Already sent: the existing one."),
            400: OpenApiResponse(description="Invalid: field -> reasons."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Send one activity: 201 when new, 200 when this source + external_id exists already."""
        result = services.activity_ingest(item=request.data, actor=request.user)
        if result.status == services.REJECTED:
            return Response(result.errors, status=status.HTTP_400_BAD_REQUEST)
        [activity] = self._answered([result])
        code = status.HTTP_201_CREATED if result.status == services.CREATED else status.HTTP_200_OK
        context = self.get_serializer_context()
        return Response(_AnsweredActivitySerializer(activity, context=context).data, status=code)

    @extend_schema(
        description='Send up to 1,000 activities as {"activities": [...]} (or a bare list): one '
        "result per item, in order.\n\n" + LIMITS,
        request=BulkInSerializer,
        responses={
            200: BulkResponseSerializer,
            400: OpenApiResponse(description="Not a list, or more than 1,000 activities."),
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """Send up to 1,000 activities as {"activities": [...]} (or a bare list): one result per
        item, in order ("created", "existing" or "rejected" with errors)."""
        items = request.data.get("activities") if isinstance(request.data, dict) else request.data
        if not isinstance(items, list):
            return Response(
                {"activities": ["Send a list of activities."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if len(items) > services.MAX_BULK:
            return Response(
                {"activities": [f"At most {services.MAX_BULK} activities per call."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        results = services.activity_ingest_many(items=items, actor=request.user)
        accepted = [r for r in results if r.status != services.REJECTED]
        # One serializer for the whole list: building one per activity (its fields, its
        # participants' fields) cost more than ingesting it.
        shown = _AnsweredActivitySerializer(
            self._answered(accepted), many=True, context=self.get_serializer_context()
        ).data
        by_result = {id(r): data for r, data in zip(accepted, shown, strict=True)}
        out = []
        for index, result in enumerate(results):
            row = {"index": index, "status": result.status}
            if result.status == services.REJECTED:
                row["errors"] = result.errors
            else:
                row["activity"] = by_result[id(result)]
            out.append(row)
        counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "existing")}
        counts["rejected"] = len(results) - sum(counts.values())
        return Response({"summary": counts, "results": out}, status=status.HTTP_200_OK)
