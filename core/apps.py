from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Shared infrastructure")

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.backends.signals import connection_created

        import core.auth  # noqa: F401  (connects the auth cache's invalidation signals)
        from core import openapi  # noqa: F401  (registers the schema extensions)
        from core.db import install_trust, remember_good_connections
        from core.logs import clear_request_id, install_secret_redaction

        request_finished.connect(clear_request_id, dispatch_uid="core.logs.clear_request_id")
        install_secret_redaction()
        connection_created.connect(install_trust, dispatch_uid="core.db.trust")
        request_finished.connect(remember_good_connections, dispatch_uid="core.db.remember")
        _strict_json_scalars()


def _strict_json_scalars() -> None:
    """Text fields take strings and boolean fields booleans, as the OpenAPI schema says.

    DRF's own fields turn a JSON number into text (`{"street_name": 0}` -> "0") and 0/1 into
    booleans. Query strings and form fields are strings anyway and parse as before
    (`?recalculate=true`, `flags=1`).
    """
    from rest_framework import fields

    if getattr(fields.CharField, "_strict_json", False):
        return
    text_to_internal = fields.CharField.to_internal_value
    bool_to_internal = fields.BooleanField.to_internal_value

    def text(self: fields.CharField, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return text_to_internal(self, data)

    def boolean(self: fields.BooleanField, data: Any) -> bool:
        if isinstance(data, int | float) and not isinstance(data, bool):
            self.fail("invalid", input=data)
        return bool_to_internal(self, data)

    # A deliberate patch of DRF's classes (mypy refuses assignments to methods).
    fields.CharField.to_internal_value = text  # type: ignore[method-assign, assignment]
    fields.BooleanField.to_internal_value = boolean  # type: ignore[method-assign, assignment]
    setattr(fields.CharField, "_strict_json", True)  # noqa: B010  (no such attribute in the stubs)
