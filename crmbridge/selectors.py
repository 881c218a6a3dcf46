"""Reads of the organisation's settings."""

from .models import ConfigurationProfile, ProfileMembership


def profile_for_user(*, user) -> ConfigurationProfile | None:
    """The user's own profile, else the default profile, else None."""
    if user is not None and user.pk is not None:
        membership = (
            ProfileMembership.objects.select_related("profile").filter(user_id=user.pk).first()
        )
        if membership is not None:
            return membership.profile
    return ConfigurationProfile.objects.filter(is_default=True).first()
