"""The refusals the receipts API answers (see core.errors). Ingestion itself reports each
receipt's outcome (`receipts.services.ingestion.Outcome`); the views raise these for it."""

from core.errors import Conflict, NotFound, PayloadTooLarge


class TransactionIdConflict(Conflict):
    """A transaction_id already accepted with different content."""

    default_code = "transaction_id_conflict"


class ReceiptBodyTooLarge(PayloadTooLarge):
    pass


class NoSuchPlace(NotFound):
    pass


class NoSuchUser(NotFound):
    pass


class PlaceNotAssigned(NotFound):
    pass
