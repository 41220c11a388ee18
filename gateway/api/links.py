"""Report links that open without an API key: a signed token, scoped to one report, expiring.

The report email carries `<base_url>/r/<token>`; the token's form is
`gateway.report_links`. Whoever holds the link sees that one report, in every format
(`?format=pdf|xlsx|csv|html`), and nothing else: no other report, no upload, no history. An
expired link answers 410, a changed or foreign one 404, both as a page that says what to do.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, render_template, request

from gateway.api.auth import services
from gateway.api.errors import ApiError
from gateway.errors import InputError, NotFound
from gateway.report_links import ReportLink, unsign_link
from gateway.storage.repo import TenantRepo

bp = Blueprint("links", __name__)

# the formats an emailed link opens (the annotated workbook and JSON need an API key)
LINK_FORMATS = ("html", "pdf", "xlsx", "csv")


class LinkRefused(ApiError):
    """The link is unknown, altered, or expired."""


def read_link(secret: str, token: str, now: float | None = None) -> ReportLink:
    """The link a token grants, if the signature holds and it has not expired.

    Raises:
        LinkRefused: 404 for a token that is not ours or was changed, 410 once expired.
    """
    link = unsign_link(secret, token)
    if link is None:
        msg = "This report link is not valid: copy the whole link from the email."
        raise LinkRefused(msg, status=404, code="link_invalid") from None
    if (time.time() if now is None else now) >= link.expires:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(link.expires))
        msg = (
            f"This report link expired on {when}. Ask the sender for a new one, or sign in "
            "to the gateway with your API key to read the report."
        )
        raise LinkRefused(msg, status=410, code="link_expired")
    return link


def _refused(exc: LinkRefused) -> tuple[str, int]:
    return render_template("link_refused.html", tenant="", message=str(exc)), exc.status


@bp.get("/r/<token>")
def open_report(token: str) -> Response | tuple[str, int]:
    """The one report a signed link grants, without an API key."""
    from gateway.api.shipments import report_response

    svc = services()
    try:
        link = read_link(svc.secret_key, token)
    except LinkRefused as exc:
        return _refused(exc)
    fmt = request.args.get("format", "html")
    if fmt not in LINK_FORMATS:
        msg = f"Unknown report format {fmt!r}: expected one of {', '.join(LINK_FORMATS)}."
        raise InputError(msg)
    lang = request.args.get("lang") or link.lang
    with svc.sessions() as db:
        repo = TenantRepo(db, link.tenant_id)
        try:
            shipment = repo.get(link.shipment_id)
        except NotFound:
            shipment = None
        # the link opens the version it was sent with, also after a re-check
        row = repo.report_by_id(link.shipment_id, link.report_id) if shipment else None
        if shipment is None or row is None:
            return _refused(
                LinkRefused(
                    "The report of this link is no longer kept.", status=404, code="link_invalid"
                )
            )
        response = report_response(repo, shipment, row, fmt, lang)
    response.headers["Cache-Control"] = "private, no-store"
    return response
