#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: installs the Debian packages the tests drive
# (Dovecot, Chromium and its driver, npm), starts PostgreSQL and Redis if they are down, creates
# .venv with the test extras and axe-core (the accessibility audit, from npm) in .venv/node,
# checks lint, format, the import layers (.importlinter) and types, then runs pytest. Extra
# arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ -d /etc/postgresql ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

EXTRAS=test source scripts/bootstrap.sh
AXE_CORE_VERSION=4.14.1
if ! grep -qs "\"version\": \"$AXE_CORE_VERSION\"" .venv/node/node_modules/axe-core/package.json; then
  npm install --silent --no-audit --no-fund --prefix .venv/node "axe-core@$AXE_CORE_VERSION"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports
.venv/bin/mypy
TICKETBRIDGE_SLOW_TESTS=1 exec .venv/bin/python -m pytest "$@"
