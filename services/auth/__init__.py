"""The auth service: users, one-off login tokens, access and refresh tokens, nginx verification."""
