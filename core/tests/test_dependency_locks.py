"""The dependency locks: complete, hashed, and checked against their .in files by `make test`."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
LOCKS = ("requirements.txt", "requirements-dev.txt")
INPUTS = ("requirements.in", "requirements-dev.in")


def requirements(lock: str) -> dict[str, str]:
    """name -> the full requirement (with its continuation lines) of a compiled lock."""
    text = (BASE_DIR / lock).read_text().replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith(("#", "-")):
            name = re.split(r"[\[=<>~ ]", line, maxsplit=1)[0].lower().replace("_", "-")
            found[name] = line
    return found


def check(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/lock.py", "check"], cwd=project, capture_output=True, text=True
    )


def copy_project(target: Path) -> Path:
    (target / "scripts").mkdir(parents=True)
    shutil.copy2(BASE_DIR / "scripts" / "lock.py", target / "scripts" / "lock.py")
    for name in (*LOCKS, *INPUTS):
        shutil.copy2(BASE_DIR / name, target / name)
    return target


def test_the_committed_locks_are_up_to_date():
    result = check(BASE_DIR)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("changed", INPUTS)
def test_a_changed_in_file_fails_the_check_with_a_clear_message(tmp_path, changed):
    project = copy_project(tmp_path)
    with (project / changed).open("a") as f:
        f.write("six==1.16.0\n")

    result = check(project)

    assert result.returncode == 1
    assert "Out of date with its .in file" in result.stderr
    assert "make lock" in result.stderr


@pytest.mark.parametrize("lock", LOCKS)
def test_every_package_is_pinned_with_hashes(lock):
    found = requirements(lock)
    assert found
    for name, line in found.items():
        assert "==" in line, name
        assert "--hash=sha256:" in line, name


def test_the_runtime_lock_has_what_the_redis_transport_imports_and_no_dev_packages():
    runtime = requirements("requirements.txt")
    assert {"celery", "kombu", "redis", "packaging"} <= runtime.keys()
    assert not {"pytest", "ruff", "factory-boy", "uv"} & runtime.keys()


def test_the_dev_lock_pins_shared_packages_at_the_runtime_versions():
    def pin(line: str) -> str:
        return line.split("--hash")[0].split("==")[1].strip()

    runtime, dev = requirements("requirements.txt"), requirements("requirements-dev.txt")
    assert runtime.keys() & dev.keys()
    for name in runtime.keys() & dev.keys():
        assert pin(runtime[name]) == pin(dev[name]), name
