"""Stock per store and item, and the log of every change to it."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

STORE_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ITEM_ID_MAX_LENGTH = 100


class Store(models.Model):
    """A warehouse, addressed by the public `store_id` the API and websockets use."""

    store_id = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(STORE_ID_PATTERN, _("Letters, digits, '_', '-' and '.' only."))],
        verbose_name=_("store id"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["store_id"]

    def __str__(self) -> str:
        return self.store_id


class StockItem(models.Model):
    """The quantity of one item in one store. Rows stay at 0 after a demand or a clean."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="items", verbose_name=_("store")
    )
    item_id = models.CharField(max_length=ITEM_ID_MAX_LENGTH, verbose_name=_("item id"))
    quantity = models.BigIntegerField(default=0, verbose_name=_("quantity"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated"))

    class Meta:
        verbose_name = _("stock item")
        verbose_name_plural = _("stock items")
        ordering = ["store", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "item_id"], name="stores_item_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="stores_item_quantity_non_negative"
            ),
        ]
        permissions = [("operate_stock", "Can supply, demand and clean stock")]

    def __str__(self) -> str:
        # "abc111 / apple": the store by its public id, not its row id.
        return f"{self.store.store_id} / {self.item_id}"


class StockMovement(models.Model):
    """One change of one item's quantity, written in the same transaction as the change."""

    class Operation(models.TextChoices):
        SUPPLY = "supply", _("supply")
        DEMAND = "demand", _("demand")
        CLEAN = "clean", _("clean")

    item = models.ForeignKey(
        StockItem, on_delete=models.CASCADE, related_name="movements", verbose_name=_("item")
    )
    operation = models.CharField(
        max_length=10, choices=Operation.choices, verbose_name=_("operation")
    )
    delta = models.BigIntegerField(
        help_text=_("Signed change: positive for supply"), verbose_name=_("delta")
    )
    quantity_after = models.BigIntegerField(verbose_name=_("quantity after"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        verbose_name=_("user"),
    )
    request_id = models.CharField(max_length=64, db_index=True, verbose_name=_("request id"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="stores_move_item_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_after__gte=0), name="stores_move_after_non_negative"
            ),
            models.CheckConstraint(condition=~models.Q(delta=0), name="stores_move_delta_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.get_operation_display()} {self.delta:+d}"


class ReportDelivery(models.Model):
    """The daily Telegram report of one day, so that a re-run task does not send it twice."""

    day = models.DateField(unique=True, verbose_name=_("day"))
    sent_at = models.DateTimeField(auto_now_add=True, verbose_name=_("sent"))
    chat_id = models.CharField(max_length=64, verbose_name=_("chat id"))
    as_document = models.BooleanField(default=False, verbose_name=_("as a document"))

    class Meta:
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        ordering = ["-day"]

    def __str__(self) -> str:
        return _("report of %(day)s") % {"day": self.day}
