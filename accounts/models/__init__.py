from accounts.models.ledger import Account, ExchangeRate, Movement, Service
from accounts.models.users import SignInCode, User

__all__ = ["Account", "ExchangeRate", "Movement", "Service", "SignInCode", "User"]
