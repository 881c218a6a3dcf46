"""REST API of capture: sources (CRUD; the secret is write-only) and their runs.

Admins manage any rep's sources, a Rep only their own; a CSM has no access (capture holds
mailbox credentials, which rule curation does not need). A folder source reads the server's
own disk, so only an Admin may create one.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crmbridge.api import IsAdminOrRep
from crmbridge.roles import ADMIN, has_role

from . import services
from .models import CaptureRun, CaptureSource
from .selectors import runs_visible_to, sources_with_last_run


class CaptureRunSerializer(serializers.ModelSerializer):
    source = serializers.PrimaryKeyRelatedField(read_only=True)
    errors = serializers.ListField(child=serializers.CharField(), read_only=True)
    skipped = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = CaptureRun
        fields = [
            "id",
            "source",
            "state",
            "created_at",
            "started_at",
            "finished_at",
            "seen",
            "captured",
            "updated",
            "already_present",
            "skipped",
            "errors",
            "round_trips",
            "more_to_do",
        ]
        read_only_fields = fields


def _write_only_secret(what):
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=4000,
        trim_whitespace=False,
        help_text=f"{what}; stored encrypted and never returned.",
    )


class SourceSerializer(serializers.ModelSerializer):
    owner = serializers.EmailField(required=False, help_text="The rep's e-mail (Admins).")
    secret = _write_only_secret("Password, or the OAuth2 refresh token (auth=xoauth2)")
    oauth_client_secret = _write_only_secret("OAuth2 client secret (auth=xoauth2)")
    has_secret = serializers.SerializerMethodField()
    folders = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=50
    )
    last_run = serializers.SerializerMethodField()

    class Meta:
        model = CaptureSource
        fields = [
            "id",
            "kind",
            "owner",
            "name",
            "host",
            "port",
            "security",
            "username",
            "auth",
            "secret",
            "has_secret",
            "oauth_client_id",
            "oauth_client_secret",
            "oauth_token_url",
            "folders",
            "url",
            "path",
            "enabled",
            "backfill_days",
            "last_error",
            "last_run",
            "created_at",
        ]
        read_only_fields = ["last_error", "created_at"]
        extra_kwargs = {"port": {"min_value": 1, "max_value": 65535}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["owner"] = instance.owner.email
        return data

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)

    def get_last_run(self, obj) -> int | None:
        return getattr(obj, "last_run_id", None)

    def validate_owner(self, value):
        user = get_user_model().objects.filter(email__iexact=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"No crmbridge user has the e-mail {value}.")
        return user

    def validate_backfill_days(self, value):
        if not 1 <= value <= 3650:
            raise serializers.ValidationError("Between 1 and 3650 days.")
        return value

    def validate(self, attrs):
        actor = self.context["request"].user
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        if kind == CaptureSource.Kind.FOLDER and not has_role(actor, ADMIN):
            raise serializers.ValidationError(
                {"kind": "Only an Admin may add a folder source (it reads the server's disk)."}
            )
        for name in ("url",):
            value = attrs.get(name, "")
            if value and not value.lower().startswith(("http://", "https://")):
                raise serializers.ValidationError({name: "Give an http:// or https:// URL."})
        return attrs


@extend_schema(tags=["capture"])
class SourceViewSet(viewsets.ModelViewSet):
    """A rep's mailbox (IMAP), calendars (CalDAV), ICS feed or a folder of exports."""

    serializer_class = SourceSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrRep]

    def get_queryset(self):
        return sources_with_last_run(user=self.request.user).order_by("pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        owner = data.pop("owner", self.request.user)
        serializer.instance = services.capture_source_create(
            actor=self.request.user, owner=owner, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.capture_source_update(
            source=serializer.instance,
            actor=self.request.user,
            owner=data.pop("owner", None),
            secret=data.pop("secret", None),
            oauth_client_secret=data.pop("oauth_client_secret", None),
            **data,
        )

    def perform_destroy(self, instance):
        services.capture_source_delete(source=instance)

    @extend_schema(request=None, responses={202: CaptureRunSerializer})
    @action(detail=True, methods=["post"])
    def runs(self, request, pk=None):
        """Start a capture of this source now: 202 with the run (poll /capture/runs/{id}/)."""
        with transaction.atomic():
            run = services.capture_run_request(source=self.get_object())
        return Response(CaptureRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description="{ok: bool, message: words}")},
    )
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        ok, message = services.capture_source_test(source=self.get_object())
        return Response({"ok": ok, "message": message})


@extend_schema(tags=["capture"])
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """Capture runs: state and counts (seen, captured, updated, already present, skipped by
    reason, errors in words)."""

    serializer_class = CaptureRunSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrRep]

    def get_queryset(self):
        return runs_visible_to(user=self.request.user).order_by("-pk")
