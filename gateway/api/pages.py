"""The web pages: sign in with an API key, upload a shipment, watch it, read its report.

Plain HTML and static JS; the page scripts call the same `/v1` API with the session cookie
and the CSRF token, so there is one code path for uploads.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from gateway.api.auth import (
    authenticate_key,
    check_csrf,
    csrf_token,
    current_principal,
    current_repo,
    services,
)
from gateway.api.errors import Unauthorized
from gateway.countries import COUNTRIES
from gateway.domain import TRANSPORT_MODES
from gateway.errors import InputError
from gateway.reports import changes
from gateway.reports.messages import TRANSPORT_MODES as MODE_WORDS
from gateway.storage.repo import ShipmentFilter, aware
from gateway.web.words import LANGUAGES, script_words, word

bp = Blueprint("pages", __name__)
LANG_COOKIE = "gateway_lang"


@bp.app_context_processor
def _inject() -> dict[str, object]:
    lang = page_language()
    return {
        "csrf_token": csrf_token,
        "lang": lang,
        "w": lambda key, **values: word(key, lang).format(**values),
        "script_words": script_words(lang),
        "aware": aware,
    }


@bp.post("/language")
def set_language() -> BaseResponse:
    """Switch the app's language: kept with the signed-in user's key, and in this browser."""
    check_csrf()
    lang = request.form.get("lang", "")
    if lang not in LANGUAGES:
        msg = f"Unknown language {lang!r}: expected 'en' or 'zh'."
        raise InputError(msg)
    if _signed_in():
        repo = current_repo()
        repo.choose_language(current_principal().key_id, lang)
        repo.session.commit()
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("pages.index")
    response = redirect(target)
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response


def _signed_in() -> bool:
    return "key_id" in session


@bp.get("/")
def index() -> BaseResponse:
    """Upload page when signed in, else the sign-in page."""
    return redirect(url_for("pages.upload_page" if _signed_in() else "pages.login_page"))


@bp.get("/login")
def login_page() -> str:
    """The sign-in form."""
    return render_template("login.html", error=None)


@bp.post("/login")
def login() -> BaseResponse | tuple[str, int]:
    """Exchange an API key for a session cookie (the cookie holds the key id, not the key)."""
    check_csrf()
    principal = authenticate_key(request.form.get("api_key", ""))
    if principal is None:
        return render_template("login.html", error=word("key_unknown", page_language())), 401
    session.clear()
    session.permanent = True
    session["key_id"] = principal.key_id
    session["tenant_id"] = principal.tenant_id
    session["tenant"] = principal.tenant_name
    csrf_token()  # a fresh token for the new session
    return redirect(url_for("pages.upload_page"))


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session."""
    check_csrf()
    session.clear()
    return redirect(url_for("pages.login_page"))


def _require_session() -> BaseResponse | None:
    if not _signed_in():
        return redirect(url_for("pages.login_page"))
    return None


@bp.get("/upload")
def upload_page() -> BaseResponse | str:
    """Drag-and-drop upload with progress, and the latest shipments."""
    if (gone := _require_session()) is not None:
        return gone
    search, filters, problem = _history_query()
    try:
        rows, cursor = current_repo().page(
            filters, limit=HISTORY_PAGE, cursor=search.get("cursor") or None
        )
    except Unauthorized:
        session.clear()
        return redirect(url_for("pages.login_page"))
    except InputError as exc:  # a cursor that is not ours
        rows, cursor, problem = [], None, str(exc)
    older = None
    if cursor:
        kept = {k: v for k, v in search.items() if v and k != "cursor"}
        older = f"{url_for('pages.upload_page')}?{urlencode({**kept, 'cursor': cursor})}#history"
    return render_template(
        "upload.html",
        tenant=session.get("tenant", ""),
        shipments=rows,
        search=search,
        search_problem=problem,
        older=older,
        searching=any(v for k, v in search.items() if k != "cursor"),
        max_documents=services().settings.max_documents,
        max_bytes=services().settings.max_upload_bytes,
        countries=COUNTRIES,
        transport_modes=[(mode, MODE_WORDS[mode]) for mode in TRANSPORT_MODES],
    )


HISTORY_PAGE = 20


def _history_query() -> tuple[dict[str, str], ShipmentFilter, str | None]:
    """The history form (search text, verdict, destination, dates) as a shipment filter."""
    from marshmallow import ValidationError

    from gateway.api.schemas import CountryField

    search = {
        name: request.args.get(name, "").strip()[:200]
        for name in ("q", "verdict", "destination", "from", "to", "cursor")
    }
    problems: list[str] = []
    destination = None
    if search["destination"]:
        try:
            destination = CountryField().deserialize(search["destination"])
        except ValidationError as exc:
            problems += [str(m) for m in exc.messages]
    dates: dict[str, dt.datetime | None] = {"from": None, "to": None}
    for name in dates:
        if search[name]:
            try:
                day = dt.date.fromisoformat(search[name])
            except ValueError:
                problems.append(f"{search[name]!r} is not a date (YYYY-MM-DD).")
                continue
            dates[name] = dt.datetime.combine(day, dt.time(), dt.UTC)
    to = dates["to"]
    filters = ShipmentFilter(
        verdict=search["verdict"] if search["verdict"] in ("clear", "hold", "block") else None,
        destination=destination,
        text=search["q"] or None,
        created_after=dates["from"],
        created_before=to + dt.timedelta(days=1) if to else None,  # the whole last day
    )
    return search, filters, " ".join(problems) or None


@bp.get("/shipments/<shipment_id>")
def shipment_page(shipment_id: str) -> BaseResponse | str:
    """A shipment's status and, once checked, its report with download buttons."""
    if (gone := _require_session()) is not None:
        return gone
    repo = current_repo()
    shipment = repo.get(shipment_id)
    versions = repo.reports(shipment_id)
    wanted = request.args.get("version", "")
    row = None
    if wanted.isdigit():
        row = next((r for r in versions if r.version == int(wanted)), None)
    if row is None and shipment.status == "done" and versions:
        row = versions[-1]
    lang = page_language()
    report_html = None
    if row is not None:
        from gateway.reports.html_report import render_report_sections
        from gateway.storage.codec import report_from_data

        # the report renderer escapes all document text itself (autoescape, StrictUndefined);
        # times are written in UTC and shown in the browser's own zone by localtime.js
        report = report_from_data(row.body)
        report_html = Markup(render_report_sections(report, lang, dt.UTC))  # noqa: S704 (escaped above)
    return render_template(
        "shipment.html",
        tenant=session.get("tenant", ""),
        shipment=shipment,
        documents=repo.documents(shipment_id),
        has_workbook=any(
            d.media_type.endswith("spreadsheetml.sheet") for d in repo.documents(shipment_id)
        ),
        report_html=report_html,
        lang=lang,
        versions=versions,
        shown=row,
        change_counts={r.version: changes.counts(r.changes) for r in versions if r.changes},
    )


@bp.get("/report.css")
def report_css() -> Response:
    """The report's style sheet for the report shown inside the app's pages."""
    from gateway.reports.html_report import report_css as css

    response = Response(css(), content_type="text/css; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def page_language() -> str:
    """The language of the app's pages.

    A signed-in user's own choice (kept with the key, so it follows the user to another
    browser), else this browser's last choice, else the tenant's language; English before
    sign-in.
    """
    chosen = request.cookies.get(LANG_COOKIE)
    browser = chosen if chosen in LANGUAGES else None
    if "key_id" not in session and not request.headers.get("Authorization"):
        return browser or "en"
    try:
        principal = current_principal()
    except Unauthorized:
        return browser or "en"
    return principal.chosen_language or browser or principal.language


@functools.cache
def _favicon() -> bytes:
    """A small battery drawn once (green body, dark terminal) as a 16 and 32 px ICO."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((12, 2, 19, 5), fill=(40, 40, 40, 255))
    draw.rounded_rectangle((7, 5, 24, 30), radius=3, fill=(40, 40, 40, 255))
    draw.rectangle((10, 8, 21, 27), fill=(46, 160, 67, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="ICO", sizes=[(16, 16), (32, 32)])
    return buffer.getvalue()


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon that browsers ask for on every page."""
    response = Response(_favicon(), content_type="image/x-icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def security_headers(response: Response) -> Response:
    """CSP without 'unsafe-inline' and the usual hardening headers on every response."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
        "object-src 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/v1/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response
