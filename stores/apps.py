from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

STOREKEEPER_GROUP = "storekeeper"


def _setup_after_migrate(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """Create the stores named in STORE_IDS and the storekeeper group on every `migrate`."""
    from django.contrib.auth.models import Group, Permission

    from stores.services import ensure_configured_stores

    ensure_configured_stores()
    group, _ = Group.objects.using(using).get_or_create(name=STOREKEEPER_GROUP)
    permission = Permission.objects.using(using).filter(
        content_type__app_label="stores", codename="operate_stock"
    )
    group.permissions.add(*permission)


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("Warehouse stock")

    def ready(self) -> None:
        # Connected after django.contrib.auth's handler, so the permission exists by then.
        post_migrate.connect(_setup_after_migrate, sender=self)
