"""REST API of the address books: CRUD, "sync now" and runs. An Admin sees every rep's address
books; a Rep only their own (the querysets enforce it, so another rep's is a 404); a CSM keeps
none (403), as in the admin, where the CSM role has no address-book permission."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Account
from crmbridge.api import IsAdminOrRep
from crmbridge.roles import ADMIN, has_role

from . import selectors, services
from .models import AddressBook, AddressBookRun


class AddressBookRunSerializer(serializers.ModelSerializer):
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AddressBookRun
        fields = [
            "id",
            "address_book",
            "trigger",
            "state",
            "started_at",
            "finished_at",
            "started_by",
            "counts",
            "requests",
            "errors",
            "message",
        ]
        read_only_fields = fields


class AddressBookSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="The rep (username). Only an Admin may give another user; default: you.",
    )
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=1000, trim_whitespace=False
    )
    accounts = serializers.SlugRelatedField(
        slug_field="sf_id",
        many=True,
        required=False,
        queryset=Account.objects.filter(is_deleted=False),
        help_text="Salesforce Ids of the Accounts shown when `view` is `accounts`.",
    )
    has_secret = serializers.SerializerMethodField()
    collection_url = serializers.CharField(
        read_only=True, help_text="The address book's own URL, once found (empty before)."
    )

    class Meta:
        model = AddressBook
        fields = [
            "id",
            "owner",
            "url",
            "username",
            "secret",
            "has_secret",
            "name",
            "view",
            "accounts",
            "enabled",
            "collection_url",
            "last_synced_at",
            "last_error",
        ]
        read_only_fields = ["collection_url", "last_synced_at", "last_error"]

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)

    def validate_owner(self, owner):
        user = self.context["request"].user
        owner = owner or user  # left blank: the caller's own
        if owner != user and not has_role(user, ADMIN):
            raise serializers.ValidationError("You may only keep your own address book.")
        return owner

    def validate(self, attrs):
        view = attrs.get("view", getattr(self.instance, "view", AddressBook.View.OWNED))
        accounts = attrs.get("accounts")
        if accounts is None and self.instance is not None:
            accounts = list(self.instance.accounts.all())
        if view == AddressBook.View.ACCOUNTS and not accounts:
            raise serializers.ValidationError({"accounts": "Choose the Accounts to show."})
        owner = attrs.get("owner") or getattr(self.instance, "owner", None)
        owner = owner or self.context["request"].user
        if services.address_book_of(owner=owner, other_than=self.instance):
            raise serializers.ValidationError({"owner": services.ONE_PER_OWNER})
        return attrs


@extend_schema(tags=["address books"])
class AddressBookViewSet(viewsets.ModelViewSet):
    """Reps' CardDAV address books kept in two-way sync with Salesforce Contacts. The
    `secret` is write-only and stored encrypted."""

    serializer_class = AddressBookSerializer
    permission_classes = [IsAdminOrRep]
    queryset = AddressBook.objects.none()  # the schema's model; get_queryset() decides rows

    def get_queryset(self):
        books = selectors.address_books_for(user=self.request.user)
        return books.prefetch_related("accounts").order_by("pk")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.setdefault("owner", self.request.user)
        serializer.instance = services.address_book_create(**data)

    def perform_update(self, serializer):
        serializer.instance = services.address_book_update(
            address_book=serializer.instance, changes=dict(serializer.validated_data)
        )

    @extend_schema(request=None, responses={202: AddressBookRunSerializer})
    @action(detail=True, methods=["post"])
    def runs(self, request, pk=None):
        """Sync this address book now (queued): poll the run's `state`."""
        run = services.address_book_run_request(
            address_book=self.get_object(), trigger=AddressBookRun.Trigger.API, user=request.user
        )
        return Response(AddressBookRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["address books"])
class AddressBookRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Runs of the address books you may see, with counts both ways."""

    serializer_class = AddressBookRunSerializer
    permission_classes = [IsAdminOrRep]
    queryset = AddressBookRun.objects.none()  # the schema's model; get_queryset() decides rows

    def get_queryset(self):
        return selectors.address_book_runs_for(user=self.request.user).order_by("-pk")
