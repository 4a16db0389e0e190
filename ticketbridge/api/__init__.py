"""The JSON API: token-authenticated endpoints for customers' servers."""

PREFIX = "/api/"
HINT = "the sync API is GET /api/v1/licenses/{token} and POST /api/v1/licenses/{token}/usage"
