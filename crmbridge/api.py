"""REST API of the organisation: Global Settings and Configuration Profiles (Admin role only)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, serializers, viewsets
from rest_framework.views import exception_handler as drf_exception_handler

from . import services
from .models import REQUIRED_FIELD_CHOICES, ConfigurationProfile, GlobalSettings, ProfileMembership
from .roles import ADMIN, CSM, REP, has_role


def exception_handler(exc, context):
    """DRF's handler, plus model validation errors as 400s (never a 500 for bad input)."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = serializers.ValidationError(detail)
    return drf_exception_handler(exc, context)


class HasRole(permissions.BasePermission):
    """Only users in one of `roles` (superusers count as Admin). Subclass to choose the roles."""

    roles: tuple = ()
    message = "Your role does not allow this."

    def has_permission(self, request, view):
        return has_role(request.user, *self.roles)


class IsAdminRole(HasRole):
    roles = (ADMIN,)


class IsCsmOrAdmin(HasRole):
    roles = (ADMIN, CSM)


class IsAdminOrRep(HasRole):
    """What a rep keeps for themselves (mailboxes, address books): Admins see everyone's."""

    roles = (ADMIN, REP)


class IsAnyRole(HasRole):
    roles = (ADMIN, CSM, REP)


def domain_list_field(**kwargs):
    return serializers.ListField(
        child=serializers.CharField(max_length=253, trim_whitespace=True),
        required=False,
        allow_empty=True,
        **kwargs,
    )


class GlobalSettingsSerializer(serializers.ModelSerializer):
    required_contact_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=REQUIRED_FIELD_CHOICES), required=False
    )
    internal_domains = domain_list_field()
    extra_personal_domains = domain_list_field()
    capture_exclusions = serializers.ListField(
        child=serializers.CharField(max_length=254, trim_whitespace=True),
        required=False,
        allow_empty=True,
        help_text="Addresses and domains capture skips.",
    )

    class Meta:
        model = GlobalSettings
        fields = [
            "contact_creation_enabled",
            "create_as",
            "required_contact_fields",
            "internal_domains",
            "extra_personal_domains",
            "auto_attribute_updates",
            "sync_interval_minutes",
            "api_budget_percent",
            "capture_body",
            "capture_body_chars",
            "capture_exclusions",
        ]

    def validate_internal_domains(self, value):
        return services.normalise_domain_list(value)

    def validate_extra_personal_domains(self, value):
        return services.normalise_domain_list(value)

    def validate_required_contact_fields(self, value):
        return sorted(set(value))

    def update(self, instance, validated_data):
        return services.global_settings_update(changes=validated_data)


@extend_schema(tags=["settings"])
class GlobalSettingsView(generics.RetrieveUpdateAPIView):
    """The organisation's Global Settings (one object). PATCH changes only the fields given."""

    serializer_class = GlobalSettingsSerializer
    permission_classes = [IsAdminRole]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return GlobalSettings.load()


class SlugField(serializers.SlugRelatedField):
    """SlugRelatedField that refuses NUL characters before they reach a query (PostgreSQL
    rejects them with a DataError, which would otherwise be a 500)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data)


class ConfigurationProfileSerializer(serializers.ModelSerializer):
    members = SlugField(
        many=True,
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        help_text="Usernames. A user belongs to at most one profile.",
    )

    class Meta:
        model = ConfigurationProfile
        fields = ["id", "name", "contact_creation_enabled", "is_default", "members"]
        # validate_is_default says which profile is the default; DRF's own message would not.
        extra_kwargs = {"is_default": {"validators": []}}

    def validate_members(self, users):
        taken = ProfileMembership.objects.filter(user__in=users).select_related("user", "profile")
        if self.instance is not None:
            taken = taken.exclude(profile=self.instance)
        clashes = [f"{m.user.username} is already in profile {m.profile.name!r}" for m in taken]
        if clashes:
            raise serializers.ValidationError(clashes)
        return users

    def validate_is_default(self, value):
        others = ConfigurationProfile.objects.filter(is_default=True)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if value and others.exists():
            raise serializers.ValidationError(
                f"{others.first().name!r} is already the default profile; unset it first."
            )
        return value

    @transaction.atomic
    def create(self, validated_data):
        members = validated_data.pop("members", [])
        profile = ConfigurationProfile.objects.create(**validated_data)
        profile.members.set(members)
        return profile

    @transaction.atomic
    def update(self, instance, validated_data):
        members = validated_data.pop("members", None)
        instance = super().update(instance, validated_data)
        if members is not None:
            instance.members.set(members)
        return instance


@extend_schema(tags=["profiles"])
class ConfigurationProfileViewSet(viewsets.ModelViewSet):
    """Configuration Profiles: per-team contact creation, and which users belong to them."""

    serializer_class = ConfigurationProfileSerializer
    permission_classes = [IsAdminRole]
    queryset = ConfigurationProfile.objects.prefetch_related("members").order_by("name")
