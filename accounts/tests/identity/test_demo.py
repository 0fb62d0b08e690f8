import pytest
from django.core.management import call_command

from accounts import demo
from accounts.models import User


@pytest.mark.django_db
def test_demo_makes_one_user_of_each_role_and_is_idempotent(capsys):
    first = demo.seed(stdout=None)
    snapshot = list(User.objects.order_by("username").values_list("username", "invite_code"))
    second = demo.seed(stdout=None)

    roles = {u.username: u.role for u in User.objects.all()}
    assert roles == {"operator": "admin", "analyst": "analyst", "alice": "user", "bob": "user"}
    assert list(User.objects.order_by("username").values_list("username", "invite_code")) == (
        snapshot
    )
    assert first == second
    assert demo.demo_user("bob").invited_by == demo.demo_user("alice")
    assert any("/api/login/" in line for line in first)


@pytest.mark.django_db
def test_demo_passwords_sign_in(api_client):
    call_command("seed_demo_data", "--force", verbosity=0)

    for username, (password, _) in demo.DEMO_USERS.items():
        response = api_client.post("/auth/login/", {"username": username, "password": password})
        assert response.status_code == 200, username
