"""Edit match: a person sets an activity's Account and Opportunity. The Accounts matching
names for the activity come first, each with what tells it apart (domains, owner); any other
Account is searched for. The Opportunity list holds only the chosen Account's Opportunities
(the page forwards the choice to the autocomplete), and a mismatched pair is a form error."""

from django import forms
from django.contrib import messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Min
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from accounts.admin import account_details
from accounts.domains import is_personal_domain
from accounts.models import Account, Opportunity
from crmbridge.models import GlobalSettings
from crmbridge.roles import ADMIN, has_role

from . import rematch
from .models import Activity

# Edit match offers at most this many of an activity's domains.
DOMAIN_CHOICES_MAX = 100

ANOTHER = "another"


class ForwardingAutocomplete(AutocompleteSelect):
    """An admin autocomplete whose searches also send the form's chosen Account
    (`data-forward`: the parameter name; edit-match.js fills it), read by the target admin."""

    def __init__(self, field, admin_site, *, forward):
        super().__init__(field, admin_site)
        self.forward = forward

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-forward"] = self.forward
        return attrs


class EditMatchForm(forms.Form):
    suggested = forms.ChoiceField(
        label="Account", widget=forms.RadioSelect, required=False, initial=ANOTHER
    )
    account = forms.ModelChoiceField(
        queryset=Account.objects.filter(is_deleted=False),
        required=False,
        help_text="Search by name, Salesforce Id or domain. Empty: no Account.",
    )
    opportunity = forms.ModelChoiceField(
        queryset=Opportunity.objects.filter(is_deleted=False),
        required=False,
        help_text="Optional. Lists the chosen Account's Opportunities.",
    )
    add_domain = forms.ChoiceField(
        required=False,
        label="Also add this domain to the Account",
        help_text="Future activity from this domain then matches the Account (Admins only).",
    )

    def __init__(self, *args, admin_site, candidates, domain_choices, may_add_domain, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(a.pk): a for a in candidates}
        account = self.fields["account"]
        account.widget = AutocompleteSelect(Activity._meta.get_field("account"), admin_site)
        account.widget.choices = account.choices
        opportunity = self.fields["opportunity"]
        opportunity.widget = ForwardingAutocomplete(
            Activity._meta.get_field("opportunity"), admin_site, forward="account"
        )
        opportunity.widget.choices = opportunity.choices
        if self.candidates:
            self.fields["suggested"].choices = [
                (pk, f"{a.name} — {account_details(a)}") for pk, a in self.candidates.items()
            ] + [(ANOTHER, "Another Account, or none (search below)")]
            account.label = "Another Account"
        else:
            del self.fields["suggested"]
        if may_add_domain and domain_choices:
            self.fields["add_domain"].choices = [("", "— no —")] + [(d, d) for d in domain_choices]
        else:
            del self.fields["add_domain"]

    def clean(self):
        data = super().clean()
        suggested = data.get("suggested") or ANOTHER
        searched = data.get("account")
        if suggested != ANOTHER:
            chosen = self.candidates[suggested]
            if searched is not None and searched != chosen:
                self.add_error(
                    "account",
                    f"You chose {chosen.name} above and searched for {searched.name}: "
                    "keep one (choose “Another Account” to use the search).",
                )
            data["account"] = chosen
        account, opportunity = data.get("account"), data.get("opportunity")
        if opportunity is not None and (account is None or opportunity.account_id != account.pk):
            where = f"of {account.name}" if account is not None else "once an Account is chosen"
            self.add_error(
                "opportunity", f"{opportunity.name} is not an Opportunity {where}: choose one."
            )
        if data.get("add_domain") and account is None:
            self.add_error("add_domain", "Choose an Account to add the domain to.")
        return data


def _domain_choices(activity):
    """The activity's external domains, each once, in order of first appearance (one query)."""
    extra = GlobalSettings.load().extra_personal_domains
    domains = (
        activity.participants.filter(is_internal=False)
        .exclude(domain="")
        .values("domain")
        .annotate(first=Min("pk"))
        .order_by("first")
        .values_list("domain", flat=True)
    )
    found = [d for d in domains if not is_personal_domain(d, extra=extra)]
    return found[:DOMAIN_CHOICES_MAX]


def _initial(activity, candidates):
    if activity.account_id in {a.pk for a in candidates}:
        return {"suggested": str(activity.account_id), "opportunity": activity.opportunity}
    return {
        "suggested": str(candidates[0].pk) if candidates and not activity.account_id else ANOTHER,
        "account": activity.account,
        "opportunity": activity.opportunity,
    }


def edit_match_view(model_admin, request, activity):
    """The Edit match page of `activity` (already checked visible to the user)."""
    if not model_admin.has_change_permission(request, activity):
        raise PermissionDenied
    candidates = rematch.activity_match_candidates(activity=activity)
    form_kwargs = {
        "admin_site": model_admin.admin_site,
        "candidates": candidates,
        "domain_choices": _domain_choices(activity),
        "may_add_domain": has_role(request.user, ADMIN),
    }
    if request.method == "POST":
        form = EditMatchForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                edit = rematch.activity_match_edit(
                    activity=activity,
                    account=form.cleaned_data["account"],
                    opportunity=form.cleaned_data["opportunity"],
                    user=request.user,
                    add_domain=form.cleaned_data.get("add_domain") or "",
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                model_admin.log_change(request, activity, f"Edit match: {edit.after}")
                note = "Match saved."
                if edit.added_domain:
                    note += f" Added {edit.added_domain} to the Account."
                model_admin.message_user(request, note, messages.SUCCESS)
                return redirect("admin:activities_activity_match", activity.pk)
    else:
        form = EditMatchForm(initial=_initial(activity, candidates), **form_kwargs)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Edit match: {activity}",
        "opts": model_admin.opts,
        "activity": activity,
        "form": form,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/activities/activity/edit_match.html", context)


def opportunities_for_edit_match(request, queryset):
    """An Edit match autocomplete for the Opportunity: only the forwarded Account's ones, open
    first; none until an Account is chosen. Other searches unchanged."""
    get = request.GET
    if (get.get("app_label"), get.get("model_name"), get.get("field_name")) != (
        "activities",
        "activity",
        "opportunity",
    ):
        return queryset
    account = get.get("account", "")
    if not account.isdigit():
        return queryset.none()
    return queryset.filter(account_id=account).order_by("is_closed", "-close_date", "name")
