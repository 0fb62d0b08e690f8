"""The accounts app's admin, one module per part: identity (users, sign-in codes) and balances
(accounts, movements, services, rates). Django imports this package; importing the modules
registers their models."""

from accounts.admin import balances, identity

__all__ = ["balances", "identity"]
