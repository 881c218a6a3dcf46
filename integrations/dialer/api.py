"""REST API of the dialer: the call-results webhook (project secret), runs, and configuration
of projects and integrations (Admin role)."""

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import authentication, exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from crmbridge.api import IsAdminRole
from crmbridge.boundary import unstorable_text
from crmbridge.roles import ADMIN, has_role
from crmbridge.two_factor import VerifiedSessionAuthentication

from . import selectors, services
from .models import Action, CallRun, DialerProject, Integration, SObjectName


# -- authentication by project secret -------------------------------------------------------
class ProjectSecretAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <project secret>``: request.auth is the DialerProject."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Bearer header.")
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid Bearer header.") from None
        project = selectors.project_for_secret(secret=secret)
        if project is None:
            raise exceptions.AuthenticationFailed("Invalid project secret.")
        return AnonymousUser(), project

    def authenticate_header(self, request):
        return self.keyword


class ProjectSecretScheme(OpenApiAuthenticationExtension):
    target_class = ProjectSecretAuthentication
    name = "dialerProjectSecret"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The dialer project's webhook secret (shown once in the admin).",
        }


class HasProjectSecret(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, DialerProject)


class HasProjectSecretOrAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, DialerProject) or has_role(request.user, ADMIN)


# -- webhook ----------------------------------------------------------------------------------
class CallResultSerializer(serializers.Serializer):
    project = serializers.IntegerField()
    call_id = serializers.CharField(max_length=120)
    result_code = serializers.CharField(max_length=64)
    record = serializers.DictField(required=False, default=dict)


class RunSerializer(serializers.ModelSerializer):
    integration = serializers.CharField(source="integration.name", default=None, read_only=True)
    salesforce_records = serializers.JSONField(read_only=True)
    emails_sent = serializers.JSONField(read_only=True)
    payload = serializers.JSONField(read_only=True)

    class Meta:
        model = CallRun
        fields = [
            "id", "project", "call_id", "result_code", "integration", "action", "status",
            "outcome", "salesforce_records", "error", "emails_sent", "attempts", "payload",
            "received_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


@extend_schema(tags=["dialer"], request=CallResultSerializer, responses={202: RunSerializer})
class CallResultView(APIView):
    """A call resulted in the dialer. Authenticate with ``Authorization: Bearer <project
    secret>``. Answers 202 with the run (its integration runs at once, in a task); the same
    ``call_id`` again answers 200 with the existing run and runs nothing."""

    authentication_classes = [ProjectSecretAuthentication]
    permission_classes = [HasProjectSecret]

    def post(self, request):
        project = request.auth
        try:
            raw = request.data
        except exceptions.ParseError as exc:
            return self._refused(project, {}, {"detail": [str(exc.detail)]})
        data = CallResultSerializer(data=raw)
        if not data.is_valid():
            return self._refused(project, raw, data.errors)
        if data.validated_data["project"] != project.pk:
            raise exceptions.AuthenticationFailed("This secret is not the project's secret.")
        unstorable = unstorable_text(data.validated_data["record"], "record")
        if unstorable:
            return self._refused(project, raw, {unstorable[0]: [unstorable[1]]})
        run, created = services.call_result_receive(
            project=project,
            call_id=data.validated_data["call_id"],
            result_code=data.validated_data["result_code"],
            record=data.validated_data["record"],
        )
        run.refresh_from_db()
        body = RunSerializer(run).data
        body["url"] = request.build_absolute_uri(reverse("api:dialer-run-detail", args=[run.pk]))
        body["duplicate"] = not created
        return Response(body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)

    def _refused(self, project, raw, errors):
        """A 400 with the reasons, after recording the call as failed (it is never lost)."""
        raw = raw if isinstance(raw, dict) else {}
        reasons = "; ".join(f"{field}: {' '.join(map(str, why))}" for field, why in errors.items())
        run = services.call_result_refuse(
            project=project,
            call_id=raw.get("call_id"),
            result_code=raw.get("result_code"),
            record=raw.get("record"),
            reason=reasons,
        )
        return Response({**errors, "run": run.pk}, status=status.HTTP_400_BAD_REQUEST)


@extend_schema(tags=["dialer"])
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """Runs of call results. With a project secret: that project's runs; Admins: all."""

    serializer_class = RunSerializer
    authentication_classes = [
        ProjectSecretAuthentication,
        authentication.TokenAuthentication,
        VerifiedSessionAuthentication,
    ]
    permission_classes = [HasProjectSecretOrAdmin]

    def get_queryset(self):
        runs = CallRun.objects.select_related("integration").order_by("-received_at", "-id")
        if isinstance(self.request.auth, DialerProject):
            return runs.filter(project=self.request.auth)
        return runs


# -- configuration (Admin) ----------------------------------------------------------------------
class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = DialerProject
        fields = ["id", "name", "created_at", "secret_rotated_at"]
        read_only_fields = ["created_at", "secret_rotated_at"]

    def create(self, validated_data):
        project, secret = services.project_create(name=validated_data["name"])
        self.context["secret"] = secret
        return project


@extend_schema(tags=["dialer"])
class ProjectViewSet(viewsets.ModelViewSet):
    """Dialer projects. Creating one (or rotating its secret) answers the webhook secret once,
    in ``secret``; crmbridge keeps only its hash."""

    serializer_class = ProjectSerializer
    permission_classes = [IsAdminRole]
    queryset = DialerProject.objects.order_by("name")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.save()
        body = {**ProjectSerializer(project).data, "secret": serializer.context["secret"]}
        return Response(body, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        project = self.get_object()
        secret = services.project_secret_rotate(project=project)
        return Response({**ProjectSerializer(project).data, "secret": secret})


class SecondaryKeySerializer(serializers.Serializer):
    dialer_field = serializers.CharField(max_length=80)
    salesforce_field = serializers.CharField(max_length=80)


class FieldMappingSerializer(serializers.Serializer):
    dialer_field = serializers.CharField(max_length=80)
    object = serializers.ChoiceField(choices=SObjectName.choices, source="sobject")
    salesforce_field = serializers.CharField(max_length=80)


class IntegrationSerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=Action.choices)
    result_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, write_only=True
    )
    secondary_keys = SecondaryKeySerializer(many=True, required=False)
    field_mappings = FieldMappingSerializer(many=True, required=False)
    email_on_error = serializers.ListField(
        child=serializers.EmailField(),
        required=False,
        write_only=True,
        help_text="Recipients of error e-mails.",
    )
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id", "project", "name", "action", "active", "result_codes", "secondary_keys",
            "field_mappings", "email_on_error", "warnings",
        ]  # fmt: skip

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["result_codes"] = [rc.code for rc in instance.result_codes.all()]
        data["email_on_error"] = instance.recipients
        return data

    def get_warnings(self, instance) -> list[str]:
        return services.integration_warnings(integration=instance)

    def validate(self, attrs):
        project = attrs.get("project") or getattr(self.instance, "project", None)
        codes = attrs.get("result_codes")
        if project is not None and codes:
            conflicts = selectors.result_code_conflicts(
                project_id=project.pk,
                codes=codes,
                exclude_integration_id=getattr(self.instance, "pk", None),
            )
            if conflicts:
                raise serializers.ValidationError(
                    {
                        "result_codes": [
                            services.result_code_conflict_message(c, n)
                            for c, n in conflicts.items()
                        ]
                    }
                )
        return attrs

    def _save(self, instance, validated_data):
        codes = validated_data.pop("result_codes", None)
        keys = validated_data.pop("secondary_keys", None)
        maps = validated_data.pop("field_mappings", None)
        emails = validated_data.pop("email_on_error", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        if emails is not None:
            instance.email_on_error = ", ".join(emails)
        try:
            return services.integration_save(
                integration=instance,
                result_codes=codes,
                secondary_keys=[dict(k) for k in keys] if keys is not None else None,
                field_mappings=[dict(m) for m in maps] if maps is not None else None,
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            ) from None

    @transaction.atomic
    def create(self, validated_data):
        return self._save(Integration(), validated_data)

    @transaction.atomic
    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


@extend_schema(tags=["dialer"])
class IntegrationViewSet(viewsets.ModelViewSet):
    """Integrations of dialer projects: action, result codes, secondary keys (in order), field
    mappings. Answers carry ``warnings`` when a create action cannot succeed because a mandatory
    Salesforce field has no mapping."""

    serializer_class = IntegrationSerializer
    permission_classes = [IsAdminRole]
    queryset = (
        Integration.objects.select_related("project")
        .prefetch_related("result_codes", "secondary_keys", "field_mappings")
        .order_by("project__name", "name")
    )

    def get_queryset(self):
        qs = super().get_queryset()
        project = self.request.query_params.get("project")
        return qs.filter(project_id=project) if project and project.isdigit() else qs
