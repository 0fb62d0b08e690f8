"""Smoke test of `make run`: the real command in a copy of the project, embedded mode."""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from core.testing import free_port, stop_process


def copy_project(target: Path) -> None:
    base = Path(settings.BASE_DIR)
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=base,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        source = base / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)  # keeps mtimes: the venv stamp stays valid
    # Reuse this venv rather than installing one again (that part is plain pip).
    (target / ".venv").symlink_to(Path(sys.prefix))


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  the local server's URL
        return response.status, response.read()


@pytest.mark.parametrize(("given", "expected"), [(None, "8000"), ("8123", "8123")])
def test_make_run_serves_the_web_process_on_the_port_it_announces(given, expected):
    """honcho gives its first process PORT=5000 unless told otherwise; `make run` announces
    8000 (or PORT) and must start honcho there. (The slow test below serves on a given PORT.)"""
    env = {k: v for k, v in os.environ.items() if k != "PORT" and not k.startswith("MAKE")}
    if given:
        env["PORT"] = given
    # -n: print the commands, run none; the shell expands nothing, so expand PORT's default.
    commands = subprocess.run(
        ["make", "-n", "run"], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True
    ).stdout
    [start] = [line for line in commands.splitlines() if "honcho start" in line]
    shell = subprocess.run(
        ["sh", "-c", f"echo {start.split('honcho start', 1)[1]}"],
        env={"PORT": given} if given else {},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert shell[shell.index("-p") + 1] == expected
    assert "http://127.0.0.1:${PORT:-8000}/api/docs/" in commands


@pytest.mark.slow
def test_make_run_serves_the_product_in_embedded_mode(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    copy_project(project)
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "VAR_DIR")
        and not k.startswith(("MAKE", "MFLAGS"))  # variables given to an outer `make test`
    }
    env.update(PORT=str(port), WORKER_CONCURRENCY="1")
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["make", "run"],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 240
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()
        assert get(f"http://127.0.0.1:{port}/api/docs/")[0] == 200
        assert get(f"http://127.0.0.1:{port}/admin/login/")[0] == 200
        output = log.read_text()
        assert "Demo data is ready." in output
        assert "operator-demo-pass" in output
        # honcho started the worker and beat next to the web process
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            output = log.read_text()
            if "ready." in output and "beat: Starting" in output:
                break
            time.sleep(0.5)
        assert "ready." in output, output
        assert "beat: Starting" in output, output
    finally:
        stop_process(proc, sig=signal.SIGINT, timeout=30)
    assert proc.returncode is not None
