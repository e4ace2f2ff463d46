from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class OnboardingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "onboarding"
    verbose_name = "Onboarding"

    def ready(self) -> None:
        from . import triggers

        # The database triggers live in code (triggers.py): off while this app's
        # migrations run, installed and current after every migrate and flush.
        uid = "onboarding.triggers"
        pre_migrate.connect(triggers.before_migrate, sender=self, dispatch_uid=uid)
        post_migrate.connect(triggers.after_migrate, sender=self, dispatch_uid=uid)
