#!/usr/bin/env bash
# Run ticketbridge on the embedded default: SQLite in ./instance, jobs in-process, outgoing
# mail kept as .eml files in ./instance/mail-outbox. Extra arguments go to `ticketbridge serve`
# (e.g. --port 8080). Set TICKETBRIDGE_* variables for PostgreSQL, Redis and SMTP.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
exec .venv/bin/ticketbridge serve "$@"
