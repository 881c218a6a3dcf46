"""REST API of title classification: rules (CRUD), preview, impact, executive engagement.

CSM and Admin roles only (a Rep gets 403).
"""

from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from crmbridge.api import IsCsmOrAdmin

from . import selectors, services
from .engine import Rule, RuleSet, shadowed_rules
from .models import VALUE_MAX_LENGTH, ClassificationRule, Dimension
from .words import phrase_key

MAX_PREVIEW_TITLES = 10_000
MAX_DRAFT_RULES = 20_000


class RuleSerializer(serializers.ModelSerializer):
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = ClassificationRule
        fields = [
            "id",
            "keyword",
            "dimension",
            "value",
            "priority",
            "active",
            "note",
            "created_at",
            "updated_at",
            "warnings",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Model.clean names the clashing rule; the unique constraint's own message would not.
        validators = []

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, obj):
        return self.context.get("warnings", {}).get(obj.pk, [])

    def create(self, validated_data):
        rule, warnings = services.rule_create(user=self.context["request"].user, **validated_data)
        self.context.setdefault("warnings", {})[rule.pk] = warnings
        return rule

    def update(self, instance, validated_data):
        rule, warnings = services.rule_update(
            rule=instance, user=self.context["request"].user, **validated_data
        )
        self.context.setdefault("warnings", {})[rule.pk] = warnings
        return rule


@extend_schema(tags=["classification"])
class RuleViewSet(viewsets.ModelViewSet):
    """Keyword rules. Filters: ?dimension=, ?active=true|false, ?search= (keyword or value)."""

    serializer_class = RuleSerializer
    permission_classes = [IsCsmOrAdmin]

    def get_queryset(self):
        qs = ClassificationRule.objects.order_by("dimension", "keyword", "id")
        params = self.request.query_params
        if params.get("dimension"):
            qs = qs.filter(dimension=params["dimension"])
        if params.get("active") in ("true", "false"):
            qs = qs.filter(active=params["active"] == "true")
        if params.get("search"):
            term = params["search"]
            qs = qs.filter(Q(keyword__icontains=term) | Q(value__icontains=term))
        return qs

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context.setdefault("warnings", {})
        return context

    def perform_destroy(self, instance):
        services.rule_delete(rule=instance, user=self.request.user)


class DraftRuleSerializer(serializers.Serializer):
    id = serializers.JSONField(
        required=False, allow_null=True, help_text="An existing rule's id, or any label."
    )
    keyword = serializers.CharField(max_length=200, trim_whitespace=True)
    dimension = serializers.ChoiceField(choices=Dimension.choices)
    value = serializers.CharField(max_length=VALUE_MAX_LENGTH, trim_whitespace=True)
    priority = serializers.IntegerField(default=0, min_value=-1_000_000, max_value=1_000_000)
    active = serializers.BooleanField(default=True)

    def validate_keyword(self, value):
        if not phrase_key(value):
            raise serializers.ValidationError(
                "The keyword has no words (it is empty or only punctuation)."
            )
        return value

    def validate_id(self, value):
        if value is not None and not isinstance(value, int | str):
            raise serializers.ValidationError("An id is a number or a string.")
        return value


class PreviewSerializer(serializers.Serializer):
    titles = serializers.ListField(
        child=serializers.CharField(max_length=1000, allow_blank=True, trim_whitespace=False),
        max_length=MAX_PREVIEW_TITLES,
    )
    rules = DraftRuleSerializer(many=True, required=False, max_length=MAX_DRAFT_RULES)


def _draft_rules(drafts: list[dict]) -> list[Rule]:
    rules = []
    for index, draft in enumerate(drafts):
        if not draft.get("active", True):
            continue
        rule_id = draft.get("id")
        rules.append(
            Rule(
                draft["keyword"],
                draft["dimension"],
                draft["value"],
                draft.get("priority", 0),
                rule_id if rule_id is not None else f"draft-{index}",
            )
        )
    return rules


def _warnings(rules: list[Rule]) -> list[str]:
    return [
        f"Rule {item.rule.keyword!r} ({item.rule.dimension}, id {item.rule.id!r}) can never win: "
        f"{item.reason}."
        for item in shadowed_rules(rules)
    ]


class PreviewResultSerializer(serializers.Serializer):
    title = serializers.CharField()
    department = serializers.CharField(allow_null=True)
    seniority = serializers.CharField(allow_null=True)
    department_rule = serializers.JSONField(allow_null=True, help_text="Rule id or null.")
    seniority_rule = serializers.JSONField(allow_null=True, help_text="Rule id or null.")


class PreviewResponseSerializer(serializers.Serializer):
    results = PreviewResultSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


@extend_schema(
    tags=["classification"], request=PreviewSerializer, responses=PreviewResponseSerializer
)
class PreviewView(APIView):
    """Classify up to 10,000 titles with the active rules, or with a draft set of `rules`.

    A draft rule without an id is reported as "draft-<its index in rules>".
    """

    permission_classes = [IsCsmOrAdmin]

    def post(self, request):
        serializer = PreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        warnings: list[str] = []
        if "rules" in data:
            rules = _draft_rules(data["rules"])
            ruleset = RuleSet.compile(rules, cache_size=0)
            warnings = _warnings(rules)
        else:
            ruleset = selectors.active_ruleset()
        results = []
        for title, result in zip(
            data["titles"], ruleset.classify_many(data["titles"]), strict=True
        ):
            results.append(
                {
                    "title": title,
                    "department": result.department_value,
                    "seniority": result.seniority_value,
                    "department_rule": result.department.id if result.department else None,
                    "seniority_rule": result.seniority.id if result.seniority else None,
                }
            )
        return Response({"results": results, "warnings": warnings})


class ImpactSerializer(DraftRuleSerializer):
    delete = serializers.BooleanField(
        default=False, help_text="With the id of an existing rule: the impact of deleting it."
    )


class ImpactExampleSerializer(serializers.Serializer):
    title = serializers.CharField()
    contacts = serializers.IntegerField()
    before = serializers.DictField(child=serializers.CharField(allow_null=True))
    after = serializers.DictField(child=serializers.CharField(allow_null=True))


class ImpactResponseSerializer(serializers.Serializer):
    contacts_changing = serializers.IntegerField()
    titles_changing = serializers.IntegerField()
    examples = ImpactExampleSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


@extend_schema(
    tags=["classification"], request=ImpactSerializer, responses=ImpactResponseSerializer
)
class ImpactView(APIView):
    """A draft rule: how many existing Contacts would change, and twenty examples before/after."""

    permission_classes = [IsCsmOrAdmin]

    def post(self, request):
        serializer = ImpactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(selectors.impact_of(draft=serializer.validated_data))
