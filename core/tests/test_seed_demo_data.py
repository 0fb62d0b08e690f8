"""seed_demo_data creates accounts with published passwords: never with DEBUG off by accident."""

import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import User
from core.testing import process_env


@pytest.mark.django_db
def test_refuses_with_debug_off_and_creates_nothing():
    assert not settings.DEBUG
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo_data", verbosity=0)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_the_alias_refuses_too():
    with pytest.raises(CommandError, match="--force"):
        call_command("create_test_data", verbosity=0)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_force_loads_with_debug_off():
    call_command("seed_demo_data", "--force", verbosity=0)
    assert User.objects.filter(username="operator", is_superuser=True).exists()


@pytest.mark.django_db
def test_loads_with_debug_on(settings):
    settings.DEBUG = True
    call_command("seed_demo_data", verbosity=0)
    assert User.objects.filter(username="operator").exists()


@pytest.mark.django_db
def test_manage_py_exits_non_zero_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo_data"],
        cwd=settings.BASE_DIR,
        env=process_env(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Refusing to load demo data with DEBUG off" in result.stderr
    assert "DEBUG=true python manage.py seed_demo_data" in result.stderr
