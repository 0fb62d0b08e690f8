"""Input and output shapes of the balances API. Money goes out as fixed-decimal strings."""

from decimal import Decimal
from typing import cast

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.balances.selectors import HISTORY_ORDERINGS, Rate, RateHistory, convert
from accounts.models import Account, Movement, Service
from core.lean_serializers import FlatInputSerializer
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from core.serializer_fields import money_serializer_field

MAX_ID = 2**63 - 1  # bigint: larger ids are bad input, not a database error
COMMENT_MAX_LENGTH = cast(int, Movement._meta.get_field("comment").max_length)  # a CharField's


def _not_above_max_amount(value: Decimal) -> None:
    # Read at call time: the limit is a setting (BALANCE_MAX_AMOUNT), not an import-time constant.
    if value > settings.BALANCE_MAX_AMOUNT:
        raise serializers.ValidationError(
            _("Ensure this value is less than or equal to %(max)s.")
            % {"max": settings.BALANCE_MAX_AMOUNT}
        )


class AmountField(serializers.DecimalField):
    @property
    def schema_max_value(self) -> Decimal:  # for the OpenAPI pattern (core.openapi)
        return settings.BALANCE_MAX_AMOUNT


def amount_field(**kwargs) -> serializers.DecimalField:
    return AmountField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        min_value=Decimal("0.01"),
        validators=[_not_above_max_amount],
        help_text="Roubles, > 0, at most 2 decimal places and at most BALANCE_MAX_AMOUNT "
        "(default 1000000000.00); a JSON number or a string.",
        **kwargs,
    )


def account_id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def comment_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=COMMENT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why or where from; kept in the ledger.",
    )


# --- accounts -------------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    """An account; with `?currency=` the balance is converted and `rate`/`rate_date` added."""

    balance = serializers.DecimalField(max_digits=20, decimal_places=2, read_only=True)
    # Not read-only so that the schema marks them optional: they appear only with ?currency=.
    # The serializer is never used for input.
    rate = serializers.DecimalField(
        max_digits=20,
        decimal_places=8,
        required=False,
        help_text="Roubles per 1 unit of `currency` (only with ?currency=).",
    )
    rate_date = serializers.DateField(
        required=False, help_text="Date of the rate (only with ?currency=)."
    )

    class Meta:
        model = Account
        fields = ["id", "balance", "currency", "rate", "rate_date", "created_at"]
        read_only_fields = ["id", "balance", "currency", "created_at"]

    def to_representation(self, account: Account) -> dict:
        rate: Rate | None = self.context.get("rate")
        data = {
            "id": account.pk,
            "balance": f"{account.balance:.2f}",
            "currency": account.currency,
            "created_at": self.fields["created_at"].to_representation(account.created_at),
        }
        if rate is not None:
            data["balance"] = f"{convert(amount=account.balance, rate=rate):.2f}"
            data["currency"] = rate.currency
            data["rate"] = format(rate.rate.normalize(), "f")
            data["rate_date"] = rate.date.isoformat()
        return data


class CurrencyQuerySerializer(serializers.Serializer):
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text="ISO 4217 code (USD, EUR, ...): give balances in that currency.",
    )


# --- money writes ---------------------------------------------------------------------------


class DepositInputSerializer(serializers.Serializer):
    account = account_id_field(help_text="Id of your account.")
    amount = amount_field()
    comment = comment_field()


class WithdrawalInputSerializer(DepositInputSerializer):
    pass


class TransferInputSerializer(FlatInputSerializer):
    from_account = account_id_field(help_text="Id of your account.")
    to_account = account_id_field(help_text="Id of the receiving account (anyone's).")
    amount = amount_field()
    comment = comment_field()

    def validate(self, attrs: dict) -> dict:
        if attrs["from_account"] == attrs["to_account"]:
            raise serializers.ValidationError(
                {"to_account": [_("Cannot transfer to the same account.")]}
            )
        return attrs


class PurchaseInputSerializer(serializers.Serializer):
    comment = comment_field()


# --- money reads ----------------------------------------------------------------------------


class DepositSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="credit_account_id", read_only=True)

    class Meta:
        model = Movement
        fields = ["id", "account", "amount", "comment", "created_at"]
        read_only_fields = fields


class WithdrawalSerializer(serializers.ModelSerializer):
    account = serializers.IntegerField(source="debit_account_id", read_only=True)

    class Meta:
        model = Movement
        fields = ["id", "account", "amount", "comment", "created_at"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    price = amount_field()

    class Meta:
        model = Service
        fields = ["id", "name", "description", "price"]


class PurchaseSerializer(serializers.ModelSerializer):
    """A bought service; `amount` is the price paid at the time."""

    account = serializers.IntegerField(source="debit_account_id", read_only=True)
    service = ServiceSerializer(read_only=True)

    class Meta:
        model = Movement
        fields = ["id", "account", "service", "amount", "comment", "created_at"]
        read_only_fields = fields


class TransferSerializer(serializers.Serializer):
    # Declared rather than a ModelSerializer: it answers every transfer (the hot path
    # bench/transfers.py measures), and building fields from the model costs ~0.1 ms a call.
    id = serializers.IntegerField(label="ID", read_only=True)
    from_account = serializers.IntegerField(source="debit_account_id", read_only=True)
    to_account = serializers.IntegerField(source="credit_account_id", read_only=True)
    amount = money_serializer_field(read_only=True)
    comment = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


# The same fields, used without a serializer instance: building one copies its declared fields
# (a deep copy per request, ~0.2 ms), more than the rest of the answer costs.
_AMOUNT = TransferSerializer._declared_fields["amount"]
_CREATED_AT = TransferSerializer._declared_fields["created_at"]


def transfer_data(movement) -> dict:
    """What `TransferSerializer(movement).data` gives (the answer to every transfer)."""
    return {
        "id": movement.pk,
        "from_account": movement.debit_account_id,
        "to_account": movement.credit_account_id,
        "amount": _AMOUNT.to_representation(movement.amount),
        "comment": movement.comment,
        "created_at": _CREATED_AT.to_representation(movement.created_at),
    }


class HistoryQuerySerializer(serializers.Serializer):
    ordering = serializers.ChoiceField(
        choices=list(HISTORY_ORDERINGS), required=False, default="-created_at"
    )
    type = serializers.ChoiceField(choices=Movement.Kind.choices, required=False)
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10,
        help_text="ISO 4217 code: adds `converted`, each amount at the rate of its day.",
    )


class ConvertedAmountSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    rate = serializers.DecimalField(
        max_digits=20, decimal_places=8, help_text="Roubles per 1 unit on `rate_date`."
    )
    rate_date = serializers.DateField()


class HistoryEntrySerializer(serializers.ModelSerializer):
    """One movement seen from my side: `direction` says whether money came in or went out."""

    type = serializers.ChoiceField(source="kind", choices=Movement.Kind.choices, read_only=True)
    direction = serializers.ChoiceField(choices=["in", "out"], read_only=True)
    account = serializers.IntegerField(source="account_id", read_only=True)
    counterpart_account = serializers.IntegerField(
        source="counterpart_id",
        read_only=True,
        allow_null=True,
        help_text="The other account of a transfer; null otherwise.",
    )
    service = ServiceSerializer(read_only=True, allow_null=True)
    # Optional in the schema (hence not read-only): present only with ?currency=.
    converted = ConvertedAmountSerializer(
        required=False, help_text="The amount in `?currency=` at the rate of the movement's day."
    )

    class Meta:
        model = Movement
        fields = [
            "id",
            "type",
            "direction",
            "amount",
            "converted",
            "account",
            "counterpart_account",
            "service",
            "comment",
            "created_at",
        ]
        read_only_fields = [field for field in fields if field != "converted"]

    def to_representation(self, movement: Movement) -> dict:
        data = super().to_representation(movement)
        rates: RateHistory | None = self.context.get("rates")
        if rates is not None:
            rate = rates.on(timezone.localdate(movement.created_at))
            data["converted"] = {
                "currency": rate.currency,
                "amount": f"{convert(amount=movement.amount, rate=rate):.2f}",
                "rate": format(rate.rate.normalize(), "f"),
                "rate_date": rate.date.isoformat(),
            }
        return data
