from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate, pre_migrate


class OnboardingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self) -> None:
        from . import lookups, triggers

        lookups.register()

        # The database triggers live in code (triggers.py): off while this app's
        # migrations run, installed and current after every migrate and flush.
        uid = "onboarding.triggers"
        pre_migrate.connect(triggers.before_migrate, sender=self, dispatch_uid=uid)
        post_migrate.connect(triggers.after_migrate, sender=self, dispatch_uid=uid)


class OnboardingAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with this project's admin site (onboarding/admin_site.py)."""

    default = False
    default_site = "onboarding.admin_site.OnboardingAdminSite"
