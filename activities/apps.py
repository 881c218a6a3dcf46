from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "Activity"

    def ready(self):
        from accounts.signals import account_domains_added

        from .rematch import activities_rematch_domains_announced

        account_domains_added.connect(
            activities_rematch_domains_announced,
            weak=False,
            dispatch_uid="activities.account_domains_added",
        )
