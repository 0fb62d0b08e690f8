"""Stock per store and item, and the log of every change to it."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

STORE_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ITEM_ID_MAX_LENGTH = 100


class Store(models.Model):
    """A warehouse, addressed by the public `store_id` the API and websockets use."""

    store_id = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(STORE_ID_PATTERN, "Letters, digits, '_', '-' and '.' only.")],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["store_id"]

    def __str__(self) -> str:
        return self.store_id


class StockItem(models.Model):
    """The quantity of one item in one store. Rows stay at 0 after a demand or a clean."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="items")
    item_id = models.CharField(max_length=ITEM_ID_MAX_LENGTH)
    quantity = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["store", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "item_id"], name="stores_item_unique"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="stores_item_quantity_non_negative"
            ),
        ]
        permissions = [("operate_stock", "Can supply, demand and clean stock")]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.item_id}: {self.quantity}"


class StockMovement(models.Model):
    """One change of one item's quantity, written in the same transaction as the change."""

    class Operation(models.TextChoices):
        SUPPLY = "supply", "supply"
        DEMAND = "demand", "demand"
        CLEAN = "clean", "clean"

    item = models.ForeignKey(StockItem, on_delete=models.CASCADE, related_name="movements")
    operation = models.CharField(max_length=10, choices=Operation.choices)
    delta = models.BigIntegerField(help_text="Signed change: positive for supply")
    quantity_after = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    request_id = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="stores_move_item_time")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity_after__gte=0), name="stores_move_after_non_negative"
            ),
            models.CheckConstraint(condition=~models.Q(delta=0), name="stores_move_delta_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.item_id} {self.delta:+d}"


class ReportDelivery(models.Model):
    """The daily Telegram report of one day, so that a re-run task does not send it twice."""

    day = models.DateField(unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    chat_id = models.CharField(max_length=64)
    as_document = models.BooleanField(default=False)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"report {self.day}"
