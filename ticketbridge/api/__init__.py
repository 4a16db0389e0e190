"""The JSON API: token-authenticated endpoints for customers' servers and for staff tools."""

PREFIX = "/api/"
HINT = (
    "the sync API is GET /api/v1/licenses/{token} and POST /api/v1/licenses/{token}/usage; "
    "the staff API is GET /api/v1/tickets, GET /api/v1/tickets/{ref} and "
    "POST /api/v1/tickets/{ref}/actions/{transition}"
)
