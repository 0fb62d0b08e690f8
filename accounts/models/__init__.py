from accounts.models.balances import Account, ExchangeRate, Movement, Service
from accounts.models.users import SignInCode, SignInEvent, User

__all__ = ["Account", "ExchangeRate", "Movement", "Service", "SignInCode", "SignInEvent", "User"]
