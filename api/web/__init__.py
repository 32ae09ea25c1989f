"""Pages for leaders, dispatchers and drivers: server-rendered shells whose JavaScript calls the
JSON API with the signed-in user's bearer token, so every authorization stays in the API."""

from api.web.pages import mount_web

__all__ = ["mount_web"]
