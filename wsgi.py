"""gunicorn entry point for production: `gunicorn wsgi:app` (settings from TICKETBRIDGE_*)."""

from ticketbridge.app import create_app

app = create_app()
