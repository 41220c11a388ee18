"""Who is calling: an API key (`Authorization: Bearer gw_...`) or the web page's session.

`current_repo()` is how every view reaches data: it is the tenant's repository for the
authenticated caller, so tenant scoping happens in the repository layer and nowhere else.
Session callers must send the CSRF token (header `X-CSRF-Token` or form field `csrf_token`)
with every state-changing request.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, g, request, session

from gateway.api.errors import RateLimited, Unauthorized
from gateway.api.ratelimit import (
    AuthThrottle,
    MemoryKnownSources,
    MemoryRateLimiter,
    RateLimiter,
    RedisKnownSources,
    RedisRateLimiter,
)
from gateway.services import Services
from gateway.storage.repo import Admin, Principal, TenantRepo, split_key

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def services() -> Services:
    """The app's services."""
    found: Services = current_app.extensions["gateway"]
    return found


def source_address() -> str:
    """The caller's address as the server sees it (a proxy in front must set it right)."""
    return request.remote_addr or "unknown"


def authenticate_key(raw: str) -> Principal | None:
    """The principal for an API key; None when it is wrong, unknown or revoked.

    Failures are throttled per source address and per key id (`AuthThrottle`): once either
    has no attempts left, the key is not even checked and `RateLimited` is raised.
    """
    throttle: AuthThrottle = current_app.extensions["gateway.auth_throttle"]
    parts = split_key(raw.strip())
    key_id = parts[0][:64] if parts is not None else None
    source = source_address()
    wait = throttle.check(source, key_id)
    if wait:
        msg = f"Too many failed sign-ins from this address or for this key; retry in {wait} s."
        raise RateLimited(msg, wait)
    with services().sessions() as db:
        principal = Admin(db, services().pepper).authenticate(raw)
    if principal is None:
        throttle.failed(source, key_id)
    else:
        throttle.succeeded(source, principal.key_id)
    return principal


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing session request without the session's token."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent, expected):
        msg = "Missing or wrong CSRF token: reload the page and try again."
        raise Unauthorized(msg)


def load_principal() -> Principal:
    """Authenticate the request (key first, then session) and apply the key's rate limit."""
    header = request.headers.get("Authorization", "")
    principal: Principal | None = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            msg = "Authorization must be 'Bearer <API key>'."
            raise Unauthorized(msg)
        principal = authenticate_key(token.strip())
        if principal is None:
            msg = "The API key is unknown or revoked."
            raise Unauthorized(msg)
    elif "key_id" in session:
        # the cookie holds the key's id, never the key: a stolen cookie dies with revocation
        with services().sessions() as db:
            principal = Admin(db, services().pepper).principal_for_key_id(
                str(session["key_id"]), str(session.get("tenant_id", ""))
            )
        if principal is None:
            session.clear()
            msg = "Your session has ended: sign in again with your API key."
            raise Unauthorized(msg)
        if request.method not in SAFE_METHODS:
            check_csrf()
    else:
        msg = "Send your API key as 'Authorization: Bearer <API key>'."
        raise Unauthorized(msg)
    wait = limiter().take(principal.key_id)
    if wait:
        msg = f"Too many requests for this API key; retry in {wait} s."
        raise RateLimited(msg, wait)
    g.principal = principal
    return principal


def current_principal() -> Principal:
    """The authenticated caller (authenticating now if needed)."""
    found = g.get("principal")
    return found if isinstance(found, Principal) else load_principal()


def current_repo() -> TenantRepo:
    """The caller's tenant repository on a request-scoped session (closed at teardown)."""
    principal = current_principal()
    db = g.get("db")
    if db is None:
        db = services().sessions()
        g.db = db
    return TenantRepo(db, principal.tenant_id)


def limiter() -> RateLimiter:
    """The app's rate limiter."""
    found: RateLimiter = current_app.extensions["gateway.limiter"]
    return found


# /v1 paths answered without credentials
PUBLIC_API = frozenset({"/v1/openapi.json"})


def init_app(app: Flask, svc: Services) -> None:
    """Install the limiters, authentication of every /v1 call, and the session teardown."""
    opts = svc.options
    known_seconds = opts.auth_known_hours * 3600
    if svc.settings.redis_url:
        from redis import Redis

        # short timeouts: while Redis is down every request falls back to local buckets
        connection = Redis.from_url(
            svc.settings.redis_url, socket_connect_timeout=1, socket_timeout=2
        )
        prefix = opts.queue_prefix
        app.extensions["gateway.limiter"] = RedisRateLimiter(
            connection, prefix, opts.rate_limit, opts.rate_burst
        )
        throttle = AuthThrottle(
            RedisRateLimiter(connection, prefix, opts.auth_fail_rate, opts.auth_fail_burst),
            RedisRateLimiter(connection, prefix, opts.key_fail_rate, opts.key_fail_burst),
            RedisKnownSources(connection, prefix, known_seconds),
        )
    else:
        app.extensions["gateway.limiter"] = MemoryRateLimiter(opts.rate_limit, opts.rate_burst)
        throttle = AuthThrottle(
            MemoryRateLimiter(opts.auth_fail_rate, opts.auth_fail_burst),
            MemoryRateLimiter(opts.key_fail_rate, opts.key_fail_burst),
            MemoryKnownSources(known_seconds),
        )
    app.extensions["gateway.auth_throttle"] = throttle

    @app.before_request
    def _authenticate_api() -> None:
        # before any view reads its query or body: a caller without credentials learns
        # nothing about what the request would have been answered (401, never 422)
        # (unknown routes and methods still answer 404 / 405: they reveal nothing)
        routed = request.url_rule is not None
        if routed and request.path.startswith("/v1/") and request.path not in PUBLIC_API:
            current_principal()

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()
