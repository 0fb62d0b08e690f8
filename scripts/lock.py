#!/usr/bin/env python3
"""Compile the dependency locks, or check that they are up to date with their .in files.

    scripts/lock.py compile UV [--upgrade]   # `make lock`: requirements*.in -> *.txt (hashed)
    scripts/lock.py check        # `make test`: fails when a .in changed after its lock

Each lock's first line records the sha256 of the inputs it was compiled from, so the check is
a hash comparison (no resolver, no network). Standard library only: it runs before the venv.
Compiling keeps the versions already in a lock unless a .in asks otherwise (or --upgrade).
"""

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = "3.11"
# lock -> (its .in, the files whose content it depends on)
LOCKS = {
    "requirements.txt": ("requirements.in", ["requirements.in"]),
    "requirements-dev.txt": ("requirements-dev.in", ["requirements.in", "requirements-dev.in"]),
}
MARKER = "# inputs-sha256: "


def inputs_hash(files: list[str]) -> str:
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def compile_locks(uv: str, upgrade: bool) -> None:
    for lock, (source, inputs) in LOCKS.items():
        # uv reads the existing lock (-o) as its preferred versions, then rewrites it
        subprocess.run(
            [
                uv, "pip", "compile", source, "--generate-hashes", "--quiet",
                "--python-version", PYTHON_VERSION, "--python-platform", "linux",
                "--custom-compile-command", "make lock", "--no-strip-extras",
                "--output-file", lock, *(["--upgrade"] if upgrade else []),
            ],
            cwd=ROOT, check=True,
        )  # fmt: skip
        path = ROOT / lock
        body = "".join(
            line for line in path.read_text().splitlines(True) if not line.startswith(MARKER)
        )
        path.write_text(f"{MARKER}{inputs_hash(inputs)}\n{body}")
        print(f"wrote {lock}")


def check_locks() -> int:
    stale = []
    for lock, (_source, inputs) in LOCKS.items():
        path = ROOT / lock
        first = path.read_text().partition("\n")[0] if path.exists() else ""
        if first != MARKER + inputs_hash(inputs):
            stale.append(f"{lock} (from {', '.join(inputs)})")
    if stale:
        print("Out of date with its .in file: " + "; ".join(stale), file=sys.stderr)
        print("Run `make lock` and commit the new lock files.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["compile"] and len(sys.argv) in (3, 4):
        compile_locks(sys.argv[2], upgrade=sys.argv[3:] == ["--upgrade"])
    elif sys.argv[1:] == ["check"]:
        sys.exit(check_locks())
    else:
        sys.exit(__doc__)
