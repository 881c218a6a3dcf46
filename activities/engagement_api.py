"""API of executive engagement (activities.engagement)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crmbridge.api import IsCsmOrAdmin

from .engagement import executive_engaged


def _id_list(raw: str | None):
    if raw is None or raw == "":
        return None
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        ids = None
    if ids is None or any(not 0 < i < 2**63 for i in ids):
        raise serializers.ValidationError({"detail": "ids are comma-separated positive integers"})
    return ids


class EngagedContactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    title = serializers.CharField()
    seniority = serializers.CharField()
    last_activity_at = serializers.DateTimeField()


class EngagedAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    executives_engaged = serializers.IntegerField()
    contacts = EngagedContactSerializer(many=True)


class EngagedOpportunitySerializer(serializers.Serializer):
    opportunity = serializers.IntegerField()
    executives_engaged = serializers.IntegerField()
    contacts = EngagedContactSerializer(many=True)


class ExecutiveEngagedResponseSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    executive_values = serializers.ListField(child=serializers.CharField())
    accounts = EngagedAccountSerializer(many=True)
    opportunities = EngagedOpportunitySerializer(many=True)


@extend_schema(
    tags=["classification"],
    responses=ExecutiveEngagedResponseSerializer,
    parameters=[
        OpenApiParameter("accounts", str, description="Comma-separated Account ids."),
        OpenApiParameter("opportunities", str, description="Comma-separated Opportunity ids."),
    ],
)
class ExecutiveEngagedView(APIView):
    """Executives engaged per Account and Opportunity. ?accounts=1,2&opportunities=3 to limit."""

    permission_classes = [IsCsmOrAdmin]

    def get(self, request):
        found = executive_engaged(
            account_ids=_id_list(request.query_params.get("accounts")),
            opportunity_ids=_id_list(request.query_params.get("opportunities")),
        )

        def listing(groups, key):
            return [
                {key: group_id, "executives_engaged": entry["count"], "contacts": entry["contacts"]}
                for group_id, entry in sorted(groups.items())
            ]

        return Response(
            {
                "since": found["since"],
                "executive_values": found["executive_values"],
                "accounts": listing(found["accounts"], "account"),
                "opportunities": listing(found["opportunities"], "opportunity"),
            },
            status=status.HTTP_200_OK,
        )
