#!/usr/bin/env bash
# Compile the translations (locale/*/LC_MESSAGES/django.po -> .mo). The .mo files are build
# output, not committed. Needs gettext's msgfmt; without it the UI stays in English.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if ! command -v msgfmt >/dev/null; then
  echo "msgfmt not found (Debian: apt-get install gettext): the admin stays in English." >&2
  exit "${REQUIRE_MSGFMT:-0}"
fi
"$PYTHON" manage.py compilemessages --ignore=.venv --ignore=var --verbosity 0
