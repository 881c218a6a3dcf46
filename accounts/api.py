"""REST API of Account domains: /api/v1/account-domains/ (Admins write; Admins and CSMs read)."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets

from crmbridge.api import IsAdminRole, IsCsmOrAdmin, SlugField

from . import domain_services
from .models import Account, AccountDomain


class AccountDomainSerializer(serializers.ModelSerializer):
    account = SlugField(
        slug_field="sf_id",
        queryset=Account.objects.filter(is_deleted=False),
        help_text="The Account's Salesforce Id.",
    )
    domain = serializers.CharField(max_length=253, help_text="e.g. acme.com")

    class Meta:
        model = AccountDomain
        fields = ["id", "account", "domain", "source", "created_at"]
        read_only_fields = ["source", "created_at"]
        # domain_services says why a domain cannot be added (including "already there").
        validators = []

    def create(self, validated_data):
        return domain_services.account_domain_add(
            account=validated_data["account"],
            domain=validated_data["domain"],
            user=self.context["request"].user,
        )

    @transaction.atomic
    def update(self, instance, validated_data):
        user = self.context["request"].user
        domain_services.account_domain_remove(account_domain=instance, user=user)
        return domain_services.account_domain_add(
            account=validated_data.get("account", instance.account),
            domain=validated_data.get("domain", instance.domain),
            user=user,
        )


class ReadForCsmWriteForAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return IsCsmOrAdmin().has_permission(request, view)
        return IsAdminRole().has_permission(request, view)


@extend_schema(tags=["accounts"])
class AccountDomainViewSet(viewsets.ModelViewSet):
    """An Account's e-mail domains: from its Website, Alternate_Domains__c, or added here.

    Adding a domain pushes it to Salesforce's Alternate_Domains__c and re-matches the domain's
    unmatched activity of the last 90 days. Only domains added here can be changed or removed.
    """

    serializer_class = AccountDomainSerializer
    permission_classes = [ReadForCsmWriteForAdmin]
    queryset = AccountDomain.objects.select_related("account").order_by("domain", "pk")

    def get_queryset(self):
        query = super().get_queryset()
        params = self.request.query_params
        if params.get("account"):
            query = query.filter(account__sf_id=params["account"])
        if params.get("domain"):
            query = query.filter(domain=params["domain"].strip().lower())
        return query

    def perform_destroy(self, instance):
        domain_services.account_domain_remove(account_domain=instance, user=self.request.user)
