from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "residents"
    verbose_name = _("Residents")

    def ready(self) -> None:
        # billing announces completed rent runs; residents turns them into notices.
        from billing.signals import rent_run_completed
        from residents import receivers

        rent_run_completed.connect(receivers.queue_rent_notices_on_commit, weak=False)
