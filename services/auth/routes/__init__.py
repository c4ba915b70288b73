"""The auth service's routes, one module per URL group (served without the `/auth` prefix)."""

from pacsbox.auth.routes.admin import AdminController
from pacsbox.auth.routes.exchange import generate_access_token, refresh_token
from pacsbox.auth.routes.oauth import oauth
from pacsbox.auth.routes.sign_in import sign_in_page, sign_user
from pacsbox.auth.routes.token_page import copy_script, generate_token, token_page

AUTH_ROUTES = [
    generate_access_token,
    refresh_token,
    token_page,
    generate_token,
    copy_script,
    sign_in_page,
    sign_user,
    oauth,
    AdminController,
]

__all__ = ["AUTH_ROUTES"]
