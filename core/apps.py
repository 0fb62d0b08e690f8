from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shared infrastructure"

    def ready(self):
        from django.core.signals import request_finished

        from core.logs import clear_request_id, install_secret_redaction

        request_finished.connect(clear_request_id, dispatch_uid="core.logs.clear_request_id")
        install_secret_redaction()
