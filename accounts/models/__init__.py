from accounts.models.users import SignInCode, User

__all__ = ["SignInCode", "User"]
