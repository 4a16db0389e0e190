"""Read by `gunicorn wsgi:app` run from this folder: keep capability links out of the access log."""

logger_class = "ticketbridge.http.redact.RedactingLogger"
