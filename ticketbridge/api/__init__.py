"""The JSON API: the license sync endpoints servers call with their token, the request
endpoints programs file requests with (described at /api/v1/openapi.json), and the staff
endpoints staff tools call with a staff API token."""

PREFIX = "/api/"
HINT = (
    "the sync API is GET /api/v1/licenses/{token} and POST /api/v1/licenses/{token}/usage; "
    "requests are POST /api/v1/requests/{type}, described at GET /api/v1/openapi.json; "
    "the staff API is GET /api/v1/tickets, GET /api/v1/tickets/{ref} and "
    "POST /api/v1/tickets/{ref}/actions/{transition}"
)
