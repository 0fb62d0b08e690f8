from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Shared infrastructure"

    def ready(self):
        from core import openapi  # noqa: F401  (registers the schema extensions)
