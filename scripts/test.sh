#!/usr/bin/env bash
# Install everything distrust's tests need on a fresh Debian machine, then run them all.
# Idempotent: a second run reuses the virtualenv and node tools it already set up.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
command -v git >/dev/null || need_apt+=(git)
command -v bwrap >/dev/null || need_apt+=(bubblewrap)
command -v socat >/dev/null || need_apt+=(socat)
command -v chromium >/dev/null || need_apt+=(chromium)  # renders the HTML hunt report in tests
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# Node-side test tools (reference implementations, schemas, real MCP peers, a registry), each
# folder pinned by its own package-lock.json. Install scripts never run.
for manifest in tests/tools/package.json tests/tools/*/package.json; do
  [ -f "$manifest" ] || continue
  (cd "$(dirname "$manifest")" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
done

echo "== ruff"
.venv/bin/ruff check src tests bench
echo "== mypy (strict, src/)"
.venv/bin/mypy
echo "== pytest"
.venv/bin/pytest -q "$@"
