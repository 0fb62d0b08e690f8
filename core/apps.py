from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Shared infrastructure")

    def ready(self):
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        import core.auth  # noqa: F401  (connects the auth cache's invalidation signals)
        from core.db import install_trust, remember_good_connections
        from core.logs import clear_request_id, install_secret_redaction

        request_finished.connect(clear_request_id, dispatch_uid="core.logs.clear_request_id")
        install_secret_redaction()
        connection_created.connect(install_trust, dispatch_uid="core.db.trust")
        request_finished.connect(remember_good_connections, dispatch_uid="core.db.remember")
