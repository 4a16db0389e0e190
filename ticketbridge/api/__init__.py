"""The JSON API: the license sync endpoints servers call with their token, and the request
endpoints programs file requests with (described at /api/v1/openapi.json)."""

PREFIX = "/api/"
HINT = (
    "the sync API is GET /api/v1/licenses/{token} and POST /api/v1/licenses/{token}/usage; "
    "requests are POST /api/v1/requests/{type}, described at GET /api/v1/openapi.json"
)
