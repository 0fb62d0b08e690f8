"""The Postman collection of docs/postman runs green with newman against a live server.

A real uvicorn process and a real Celery worker (rent runs are computed in the background) on
the test database with the demo data; newman (npm, pinned in the Makefile) runs every folder.
"""

import json
import os
import subprocess
import sys

import pytest
from django.conf import global_settings
from django.core.management import call_command

from core.testing import BASE_DIR, asgi_server, celery_worker

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

POSTMAN = BASE_DIR / "docs" / "postman"
NEWMAN = BASE_DIR / ".cache" / "node" / "node_modules" / ".bin" / "newman"


def _newman() -> str:
    if not NEWMAN.exists():  # `make test` installs it first (make newman); by hand: install now
        subprocess.run(["make", "-s", "newman"], cwd=BASE_DIR, check=True, timeout=300)
    return str(NEWMAN)


def test_the_collection_is_what_its_builder_writes():
    sys.path.insert(0, str(POSTMAN))
    try:
        import build_collection  # type: ignore[import-not-found]  # docs/postman/, on sys.path
    finally:
        sys.path.remove(str(POSTMAN))

    committed = json.loads((POSTMAN / "housing-commerce.postman_collection.json").read_text())
    assert committed == build_collection.collection(), "run docs/postman/build_collection.py"
    environment = json.loads((POSTMAN / "local.postman_environment.json").read_text())
    assert environment == build_collection.environment()


def test_newman_runs_the_whole_collection_green(transactional_db, tmp_path, settings):
    # The demo users sign in with their passwords on the server: hash them as it does.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    with open(os.devnull, "w") as devnull:
        call_command("seed_demo_data", force=True, stdout=devnull, stderr=devnull)
    newman = _newman()
    with celery_worker(), asgi_server() as (url, log):
        result = subprocess.run(
            [newman, "run", str(POSTMAN / "housing-commerce.postman_collection.json"),
             "-e", str(POSTMAN / "local.postman_environment.json"),
             "--env-var", f"baseUrl={url}", "--reporters", "cli", "--color", "off",
             "--timeout-request", "30000"],
            capture_output=True, text=True, timeout=540,
        )  # fmt: skip
    output = result.stdout + result.stderr
    (tmp_path / "newman.txt").write_text(output)
    summary = output[output.rfind("┌") :] if "┌" in output else output[-3000:]
    print(summary)
    assert result.returncode == 0, output[-15000:] + "\n--- server ---\n" + log.read_text()[-4000:]
