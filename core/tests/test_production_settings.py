"""Production settings: `check --deploy` is silent under the documented variables, weak or
placeholder secrets refuse to start, and probes stay reachable over plain HTTP."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)
GOOD_KEY = "deploy-check-test-key-3f9c1a7e5b2d48c6a0e7f1b3d5c9a2e4b6d8f0a1"


def documented_production_variables() -> dict[str, str]:
    """The variables of the README's "Operating it" block, secrets filled in."""
    readme = (BASE / "README.md").read_text()
    section = readme[readme.index("## Operating it") :]
    block = section[section.index("```bash\n") + 8 : section.index("```\n", 8)]
    found = {}
    for line in block.splitlines():
        name, _, value = line.partition("#")[0].strip().partition("=")
        if name:
            found[name] = GOOD_KEY if value.startswith("$(") else value
    return found


PRODUCTION = documented_production_variables()


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_silent_with_the_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_check_deploy_warns_without_them():
    """The same check fails with only the bare server variables: the test above can fail."""
    bare = {"DEBUG": "0", "SECRET_KEY": GOOD_KEY}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **bare)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def _env_example_secret() -> str:
    for line in (BASE / ".env.example").read_text().splitlines():
        if line.startswith("SECRET_KEY="):
            return line.partition("=")[2]
    raise AssertionError("no SECRET_KEY in .env.example")


def _k8s_example_secret() -> str:
    secret = yaml.safe_load((BASE / "deploy/k8s/secret.example.yaml").read_text())
    return secret["stringData"]["SECRET_KEY"]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "required"),
        ("too-short-a-secret-key", "too weak"),
        ("a" * 60, "too weak"),  # long but 1 distinct character
        (_env_example_secret(), "placeholder"),
        (_k8s_example_secret(), "placeholder"),
        ("change-me-" + "0123456789abcdef" * 4, "placeholder"),
    ],
    ids=["empty", "short", "few-characters", "env-example", "k8s-example", "change-me"],
)
def test_a_server_refuses_to_start_with_a_weak_or_example_secret(key, reason):
    result = run_manage("check", DEBUG="0", SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert reason in result.stderr.splitlines()[-1]


def test_local_development_still_runs_on_the_example_file():
    result = run_manage("check", DEBUG="1", SECRET_KEY=_env_example_secret())
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_ssl_redirect_keeps_the_probes_on_plain_http(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code in (200, 503)  # answered, not redirected
    redirected = client.get("/api/v1/users/me")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
    # Behind the proxy the request counts as HTTPS and is served.
    assert client.get("/api/v1/users/me", HTTP_X_FORWARDED_PROTO="https").status_code == 401


def test_hsts_and_secure_cookies_follow_the_environment(settings, client):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"].startswith("max-age=3600")


@pytest.mark.parametrize("token", ["short-token", "REPLACE-with-a-long-random-token"])
def test_a_weak_or_example_metrics_token_refuses_to_start(token):
    example = yaml.safe_load((BASE / "deploy/k8s/secret.example.yaml").read_text())
    assert example["stringData"]["METRICS_TOKEN"].startswith("REPLACE")
    result = run_manage("check", DEBUG="0", SECRET_KEY=GOOD_KEY, METRICS_TOKEN=token)
    assert result.returncode != 0
    assert "METRICS_TOKEN" in result.stderr.splitlines()[-1]
    good = run_manage("check", DEBUG="0", SECRET_KEY=GOOD_KEY, METRICS_TOKEN="good-token-4f1e9a")
    assert good.returncode == 0, good.stderr


def test_the_documented_variables_are_the_production_set_and_in_env_example():
    assert {
        "DEBUG", "SECRET_KEY", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "METRICS_TOKEN", "LOG_FORMAT",
    } <= set(PRODUCTION)  # fmt: skip
    example = (BASE / ".env.example").read_text()
    for name in PRODUCTION:
        assert f"\n{name}=" in example, name


def test_the_k8s_config_map_passes_the_deploy_check():
    config = yaml.safe_load((BASE / "deploy/k8s/configmap.yaml").read_text())["data"]
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **config, SECRET_KEY=GOOD_KEY
    )
    assert result.returncode == 0, result.stdout + result.stderr
