"""API of "why did no Contact get created?": GET /api/v1/diagnostics/contact-creation/?email="""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from email_validator import EmailNotValidError, validate_email
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crmbridge.api import IsAnyRole

from .diagnostics import contact_creation_diagnosis


class DiagnosisQuerySerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    limit = serializers.IntegerField(min_value=1, max_value=50, required=False, default=10)

    def validate_email(self, value):
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise serializers.ValidationError(f"Not a valid e-mail address: {exc}") from None
        return value.strip()


@extend_schema(
    tags=["diagnostics"],
    parameters=[
        OpenApiParameter("email", OpenApiTypes.STR, required=True),
        OpenApiParameter("limit", OpenApiTypes.INT, required=False),
    ],
    responses={200: OpenApiTypes.OBJECT},
)
class ContactCreationDiagnosisView(APIView):
    """Why a Contact was (or was not) created for an e-mail address: the most recent activities
    with it and each check passed or failed, in words. A Rep sees their own activities only."""

    permission_classes = [IsAnyRole]

    def get(self, request):
        query = DiagnosisQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            contact_creation_diagnosis(
                email=query.validated_data["email"],
                user=request.user,
                limit=query.validated_data["limit"],
            )
        )
