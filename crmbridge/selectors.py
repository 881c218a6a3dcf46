"""Reads of the organisation's settings."""

from .models import ConfigurationProfile, ProfileMembership


def profile_for_user(*, user) -> ConfigurationProfile | None:
    """The user's own profile, else the default profile, else None."""
    user_id = user.pk if user is not None else None
    return profiles_for_users(user_ids=[user_id])[user_id]


def profiles_for_users(*, user_ids) -> dict:
    """{user id: profile_for_user} for many users in two queries (an ingestion batch has a
    few owners); the None key holds the default profile, for activities without one."""
    users = set(user_ids) - {None}
    own = {
        m.user_id: m.profile
        for m in ProfileMembership.objects.select_related("profile").filter(user_id__in=users)
    }
    default = ConfigurationProfile.objects.filter(is_default=True).first()
    return {None: default, **{pk: own.get(pk, default) for pk in users}}
