"""Demo users, one of each kind. Passwords are fixed and printed: demo data only."""

from typing import Any

from django.conf import settings
from django.core.management.base import OutputWrapper
from rest_framework.authtoken.models import Token

from accounts.identity import services
from accounts.models import User

# username -> (password, extra fields)
DEMO_USERS: dict[str, tuple[str, dict[str, Any]]] = {
    "operator": ("operator-demo-pass", {"is_staff": True, "is_superuser": True}),
    "analyst": ("analyst-demo-pass", {"is_analyst": True}),
    "alice": ("alice-demo-pass", {"phone": "+79990000001"}),
    "bob": ("bob-demo-pass", {"phone": "+79990000002"}),
}


def demo_user(username: str) -> User:
    """The demo user of that name (other apps' demo data hangs off these)."""
    return User.objects.get(username=username)


def _where_codes_go() -> str:
    if settings.SMS_BACKEND == "file":
        return f"files in {settings.SMS_FILE_PATH}"
    if settings.SMS_BACKEND == "console":
        return "the worker's output"
    return f"the {settings.SMS_BACKEND} gateway"


def seed(*, stdout: OutputWrapper) -> list[str]:
    notes = []
    for username, (password, fields) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", **fields}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)
        notes.append(
            f"{user.role:>8}: username={username} password={password} token={token.key} "
            f"invite_code={user.invite_code}" + (f" phone={user.phone}" if user.phone else "")
        )

    alice, bob = demo_user("alice"), demo_user("bob")
    if bob.foreign_invite_code is None and alice.invite_code:
        services.activate_invite_code(user=bob, code=alice.invite_code)

    base = "curl -s -X POST localhost:8000"
    json = "-H 'Content-Type: application/json'"
    notes += [
        f"bob activated alice's invite code {alice.invite_code} (see GET /api/profile/ as alice)",
        f"Password -> token: {base}/auth/login/ -d username=alice -d password=alice-demo-pass",
        f'Phone -> token:    {base}/api/login/ {json} -d \'{{"phone": "{alice.phone}"}}\'  '
        f"(the 4-digit SMS code appears in {_where_codes_go()}), then "
        f'{base}/api/verify/ {json} -d \'{{"phone": "{alice.phone}", "token": 1234}}\'',
        f"E-mail -> JWT:     {base}/api/v1/auth/email/ -d email=alice@example.com  "
        "(the 6-digit code is mailed by the worker through EMAIL_BACKEND), then "
        f"{base}/api/v1/auth/token/ -d email=alice@example.com -d confirmation_code=123456",
    ]
    return notes
