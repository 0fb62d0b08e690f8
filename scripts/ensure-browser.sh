#!/usr/bin/env bash
# Make sure the tools the admin's browser tests, the translations and the Postman run need are
# installed: headless Chromium with its driver (Debian's packages; nothing is downloaded at test
# time), gettext's msgfmt for `compilemessages`, and npm (newman is installed with it). Installs the missing ones with apt-get when run as root.
set -euo pipefail

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v msgfmt >/dev/null || missing+=(gettext)
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]}..."
  # Another apt-get may hold the lock for a while: wait for it rather than fail.
  for _ in $(seq 60); do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq \
       && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
          --no-install-recommends "${missing[@]}" >/dev/null; then
      exit 0
    fi
    sleep 5
  done
  exit 1
fi
echo "Missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]})." >&2
exit 1
