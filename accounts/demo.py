"""Demo users. Passwords are fixed and printed: this is demo data, never production data."""

from rest_framework.authtoken.models import Token

from accounts.models import User

DEMO_OPERATOR = ("operator", "operator-demo-pass")


def seed(*, stdout) -> list[str]:
    username, password = DEMO_OPERATOR
    operator, created = User.objects.get_or_create(
        username=username,
        defaults={"is_staff": True, "is_superuser": True, "email": "operator@example.com"},
    )
    if created:
        operator.set_password(password)
        operator.save(update_fields=["password"])
    token, _ = Token.objects.get_or_create(user=operator)
    return [
        f"Operator: username={username} password={password} (admin at /admin/)",
        f"Operator API token: {token.key}  ->  curl -H 'Authorization: Token {token.key}' ...",
    ]
