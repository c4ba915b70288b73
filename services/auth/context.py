"""`AuthContext`: what the auth service's routes and the `pacsbox user|token` verbs share."""

from __future__ import annotations

from dataclasses import dataclass

from pacsbox.auth.keys import load_key_pair
from pacsbox.auth.passwords import check_hash
from pacsbox.auth.revocations import RevocationCache
from pacsbox.auth.throttle import LoginThrottle
from pacsbox.auth.tokens import TokenCodec
from pacsbox.auth.urls import PublicUrls
from pacsbox.core.errors import SettingsError
from pacsbox.core.settings import AuthSettings, Settings

__all__ = ["AuthContext"]


@dataclass(frozen=True)
class AuthContext:
    settings: AuthSettings
    codec: TokenCodec
    urls: PublicUrls
    revocations: RevocationCache
    throttle: LoginThrottle

    @classmethod
    def load(cls, settings: Settings) -> AuthContext:
        """Read the keys and check the admin hash; refuse (SettingsError) rather than run without them."""
        auth = settings.auth
        problem = check_hash(auth.admin_password_hash)
        if problem:
            raise SettingsError(
                f"PACSBOX_ADMIN_PASSWORD_HASH is {problem}: run `pacsbox setup` to set the admin password"
            )
        return cls(
            settings=auth,
            codec=TokenCodec(load_key_pair(auth), auth.jwt_issuer),
            urls=PublicUrls(settings.http),
            revocations=RevocationCache(auth.revocation_cache_seconds),
            throttle=LoginThrottle(auth),
        )
