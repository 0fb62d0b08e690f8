from accounts.models.ledger import Account, ExchangeRate, Movement, Service
from accounts.models.users import User

__all__ = ["Account", "ExchangeRate", "Movement", "Service", "User"]
