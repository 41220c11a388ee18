"""The Flask application factory."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from flask import Flask, Response, g, request

from gateway.api import auth, errors
from gateway.config import Settings
from gateway.logs import configure_logging
from gateway.metrics import METRICS
from gateway.services import ServiceOptions, Services
from gateway.wiring import build_services

WEB = Path(__file__).resolve().parent.parent / "web"


def build_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    options: ServiceOptions | None = None,
) -> Flask:
    """Build the app for `settings` (from the environment when None).

    Tests pass `services` (built over a temporary folder, perhaps with a fake checker).
    Nothing starts here: migrations, the executor's threads and the maintenance loop are
    started by `gateway serve` / `gateway demo`, or lazily on the first job.
    """
    settings = settings or Settings.from_env()
    configure_logging(settings)
    svc = services or build_services(settings, options)
    app = Flask(
        __name__,
        template_folder=str(WEB / "templates"),
        static_folder=str(WEB / "static"),
        static_url_path="/static",
    )
    app.config.from_mapping(
        SECRET_KEY=svc.secret_key,
        # Whole request: every document plus form overhead; Werkzeug answers 413 above it.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        # Werkzeug also applies this to its buffer for file parts; at 64 KiB (its read
        # chunk) ordinary photos were refused at random. Text fields stay small anyway.
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        MAX_FORM_PARTS=settings.max_documents + 20,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        SESSION_COOKIE_NAME="gateway_session",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=svc.options.session_hours),
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["gateway"] = svc
    auth.init_app(app, svc)
    errors.init_app(app)

    from gateway.api import codes, health, links, openapi, pages, shipments

    for blueprint in (shipments.bp, codes.bp, health.bp, openapi.bp, pages.bp, links.bp):
        app.register_blueprint(blueprint)

    @app.before_request
    def _start_timer() -> None:
        g.started = time.monotonic()

    @app.after_request
    def _after(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        METRICS.inc(
            "gateway_http_requests_total",
            method=request.method,
            route=route,
            status=str(response.status_code),
        )
        if "started" in g:
            METRICS.observe(
                "gateway_http_request_seconds", time.monotonic() - g.started, route=route
            )
        return pages.security_headers(response)

    return app
