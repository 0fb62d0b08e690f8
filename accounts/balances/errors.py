"""The refusals of money writes and reads (see core.errors for how the API answers them)."""

from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, InsufficientFunds, Invalid, NotFound, Unavailable


class InvalidAmount(Invalid):
    """An amount that is not positive, has more than 2 decimals or exceeds the maximum."""


class TransferToItself(Invalid):
    default_message = _("Cannot transfer to the same account.")


class NoSuchService(NotFound):
    default_message = _("No such service.")


class NoSuchAccount(NotFound):
    """The account named by `field` is not the caller's, or does not exist."""


class NoAccountYet(Conflict):
    default_code = "no_account"
    default_message = _("Open an account first: POST /api/v1/accounts/.")


class SameAccount(Conflict):
    default_code = "same_account"
    default_message = _("The collection account cannot pay itself.")


class BalanceLimit(Conflict):
    default_code = "balance_limit"


class NotEnoughMoney(InsufficientFunds):
    pass


class AccountBusy(Unavailable):
    """The account's row lock was not granted within BALANCE_LOCK_TIMEOUT_MS."""

    default_code = "account_busy"
    default_message = _("The account is busy with other operations; retry shortly.")
    default_retry_after = 1


class UnknownCurrency(Invalid):
    pass


class RateUnavailable(Unavailable):
    default_code = "rate_unavailable"
