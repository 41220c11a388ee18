"""The token of a report link: one report of one shipment of one tenant, signed, expiring.

The report email carries `<base_url>/r/<token>` (written by `gateway.mail`); the page that
opens it (`gateway.api.links`) reads the token back and refuses it once expired. The token is
signed with the service's secret key (itsdangerous, its own salt) and names the tenant, the
shipment, the report, the language and when it expires.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

_SALT = "report-link-v1"


@dataclass(frozen=True)
class ReportLink:
    """What a link grants: one report of one shipment of one tenant, until `expires`."""

    tenant_id: str
    shipment_id: str
    report_id: str
    lang: str
    expires: int  # epoch seconds


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def sign_link(secret: str, link: ReportLink) -> str:
    """The token of `link` (URL-safe)."""
    payload = [link.tenant_id, link.shipment_id, link.report_id, link.lang, link.expires]
    return str(_serializer(secret).dumps(payload))


def unsign_link(secret: str, token: str) -> ReportLink | None:
    """The link a token names when its signature holds (expired or not); None otherwise."""
    try:
        tenant_id, shipment_id, report_id, lang, expires = _serializer(secret).loads(token)
        return ReportLink(str(tenant_id), str(shipment_id), str(report_id), str(lang), int(expires))
    except (BadSignature, TypeError, ValueError):
        return None
