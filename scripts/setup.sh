#!/usr/bin/env bash
# Installs everything the gateway needs on a fresh Debian/Ubuntu machine:
# system packages (when missing), a virtual environment in .venv, the pinned Python packages
# and the gateway itself. Safe to run again: it only installs what is missing.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --dev    runtime + test and development tools
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

# System packages: zbar for the second barcode reader; Pango, a CJK font and Symbola (the
# group separator symbol in codes) for the PDF report (WeasyPrint); Chromium for the browser
# tests and poppler-utils to read PDFs back in tests.
pkgs=(libzbar0 libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei fonts-symbola)
[ "$dev" = 1 ] && pkgs+=(chromium poppler-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python 3.11 (3.12 works too).
py=""
for cand in python3.11 python3.12 python3; do
  if command -v "$cand" >/dev/null 2>&1 \
     && "$cand" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
    py="$cand"; break
  fi
done
[ -n "$py" ] || { echo "setup: Python 3.11 or 3.12 is required" >&2; exit 1; }

[ -x .venv/bin/python ] || "$py" -m venv .venv
req=requirements.txt
[ "$dev" = 1 ] && req=requirements-dev.txt
stamp=".venv/.installed-$(sha256sum "$req" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip "setuptools>=77" wheel >/dev/null
  .venv/bin/python -m pip install -q -r "$req"
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
