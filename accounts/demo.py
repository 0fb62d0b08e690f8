"""Demo users, one of each kind. Passwords are fixed and printed: demo data only."""

from rest_framework.authtoken.models import Token

from accounts.models import User

# username -> (password, extra fields)
DEMO_USERS = {
    "operator": ("operator-demo-pass", {"is_staff": True, "is_superuser": True}),
    "analyst": ("analyst-demo-pass", {"is_analyst": True}),
    "alice": ("alice-demo-pass", {"phone": "+79990000001"}),
    "bob": ("bob-demo-pass", {"phone": "+79990000002"}),
}


def demo_user(username: str) -> User:
    """The demo user of that name (other apps' demo data hangs off these)."""
    return User.objects.get(username=username)


def seed(*, stdout) -> list[str]:
    notes = []
    for username, (password, fields) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com", **fields}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)
        notes.append(f"{user.role:>8}: username={username} password={password} token={token.key}")
    notes.append("Sign in: curl -X POST localhost:8000/auth/login/ -d username=... -d password=...")
    return notes
