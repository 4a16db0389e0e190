#!/usr/bin/env bash
# Run ticketbridge on the embedded default: SQLite in ./instance, jobs in-process, outgoing
# mail kept as .eml files in ./instance/mail-outbox. Extra arguments go to `ticketbridge serve`
# (e.g. --port 8080). Set TICKETBRIDGE_* variables for PostgreSQL, Redis and SMTP.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/ticketbridge ] || [ pyproject.toml -nt .venv/.installed-base ]; then
  echo "Installing ticketbridge and its dependencies into .venv (first run: about a minute) …"
fi
source scripts/bootstrap.sh
echo "Starting ticketbridge (the command is .venv/bin/ticketbridge; --help lists the others) …"
exec .venv/bin/ticketbridge serve "$@"
