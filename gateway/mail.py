"""Report-ready notifications: email (SMTP or `.eml` files) and signed webhooks.

Both are delivered from the outbox (`gateway.jobs.outbox.deliver_outbox`), never by the job.
Emails are built with `EmailMessage` and `policy.SMTP`; user data stays out of headers: the
subject is a fixed template plus the shipment reference stripped of control characters, and
recipients come only from the shipment's validated notify list. The Message-ID is derived from
report id + recipient, so a message sent again after a crash is recognisably the same one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import os
import smtplib
import socket
import time
import unicodedata
from email import policy
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.errors import InputError
from gateway.report_links import ReportLink, sign_link
from gateway.reports.formats import report_stem
from gateway.storage.codec import report_from_data
from gateway.storage.models import OutboxMessage, ReportRow, Shipment, Tenant
from gateway.text import clean_text

if TYPE_CHECKING:
    from gateway.services import Mailer, Services


# the report's formats attached to the report-ready email, in this order
ATTACHED_FORMATS = ("pdf", "xlsx", "html")


class SmtpMailer:
    """SMTP delivery: `smtp://[user:pass@]host:port` (STARTTLS when `?starttls=1`) or smtps://."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            msg = f"GATEWAY_SMTP_URL={url!r} is not valid: expected smtp://host:port or smtps://."
            raise ValueError(msg)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (465 if parts.scheme == "smtps" else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = "starttls=1" in parts.query
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        """Open a connection, send, close (reports are rare enough not to pool)."""
        smtp: smtplib.SMTP
        if self.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


class FileMailer:
    """The embedded default: each email becomes `<data_dir>/outbox/<hash of Message-ID>.eml`."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        """Write the message atomically; the same Message-ID overwrites the same file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:32]
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(message.as_bytes(policy=policy.SMTP))
        os.replace(tmp, self.folder / f"{name}.eml")


def build_mailer(settings: Settings) -> Mailer:
    """SMTP when configured, else files."""
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url)
    return FileMailer(Path(settings.data_dir) / "outbox")


def clean_header_text(text: str, limit: int = 120) -> str:
    """Text safe inside a header: controls and format characters dropped, spaces collapsed."""
    kept = "".join(
        " " if ch in "\r\n\t" else ch
        for ch in text
        if ch in "\r\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )
    return " ".join(kept.split())[:limit]


def message_id(report_id: str, recipient: str, domain: str) -> str:
    """A stable Message-ID for one report and one recipient."""
    digest = hashlib.sha256(f"{report_id}\n{recipient}".encode()).hexdigest()[:12]
    return f"<{report_id}.{digest}@{domain}>"


def build_report_email(
    *,
    report_row: ReportRow,
    shipment: Shipment,
    language: str,
    recipient: str,
    sender: str,
    base_url: str,
    link_secret: str = "",
    link_seconds: int = 14 * 86400,
    now: float | None = None,
) -> EmailMessage:
    """The report-ready email a client can act on.

    Body (text + HTML, `language` first, then the other one): reference, verdict, a signed
    link that opens this one report without an API key until it expires (when `link_secret`
    is given), the counts, every blocker and warning with its place and fix. Attachments,
    named by the reference: the report as PDF, Excel and HTML.
    """
    from gateway.reports.email_report import EmailLink, render_email
    from gateway.reports.formats import FORMATS, render

    report = report_from_data(report_row.body)
    stem = report_stem(shipment.reference, shipment.id)
    attachments: list[tuple[str, str, str, bytes]] = []
    for name in ATTACHED_FORMATS:
        fmt = FORMATS[name]
        maintype, _, subtype = fmt.essence.partition("/")
        data = render(report, name, language)
        attachments.append((f"{stem}.{fmt.extension}", maintype, subtype, data))
    link = None
    if link_secret:
        expires = int(time.time() if now is None else now) + link_seconds
        token = sign_link(
            link_secret,
            ReportLink(shipment.tenant_id, shipment.id, report_row.id, language, expires),
        )
        link = EmailLink(
            url=f"{base_url.rstrip('/')}/r/{token}",
            expires=dt.datetime.fromtimestamp(expires, dt.UTC),
        )
    _subject, text, html = render_email(
        report,
        language,
        reference=clean_text(shipment.reference),
        link=link,
        attachments=[name for name, *_ in attachments],
    )
    reference = clean_header_text(shipment.reference, 60)
    # Fixed template: the subject never carries anything else from uploaded content.
    label = "电池出口校验" if language == "zh" else "Battery export check"
    verdict = clean_header_text(str(report.verdict), 10).upper()
    subject = f"{label}: {verdict}" + (f" ({reference})" if reference else "")
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = message_id(report_row.id, recipient, clean_header_text(domain, 100))
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    for name, maintype, subtype, data in attachments:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


# -- webhooks -------------------------------------------------------------------------------------


def check_webhook_url(url: str, *, allow_private: bool = False) -> str:
    """Validate a tenant's webhook URL: https (http only to private hosts when allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        msg = f"Webhook URL {url!r} is not valid: expected https://host/path."
        raise InputError(msg)
    if parts.scheme == "http" and not allow_private:
        msg = f"Webhook URL {url!r} must use https."
        raise InputError(msg)
    if parts.username or parts.password:
        msg = f"Webhook URL {url!r} must not carry credentials; use the webhook secret."
        raise InputError(msg)
    return url


def _resolve_public(host: str, port: int, allow_private: bool) -> str:
    """Resolve `host`; refuse loopback, private, link-local and reserved addresses (SSRF)."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    addresses = {str(info[4][0]) for info in infos}
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not allow_private and (
            ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast
        ):
            msg = f"Webhook host {host!r} resolves to a non-public address {address}."
            raise InputError(msg)
    return sorted(addresses)[0]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` over `timestamp.body`, the X-Gateway-Signature value."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send_webhook(
    url: str, secret: str, payload: dict[str, object], *, allow_private: bool = False
) -> None:
    """POST the signed payload; any non-2xx answer raises (the outbox retries)."""
    import requests

    check_webhook_url(url, allow_private=allow_private)
    parts = urlsplit(url)
    _resolve_public(parts.hostname or "", parts.port or 443, allow_private)
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    response = session.post(
        url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Gateway-Timestamp": timestamp,
            "X-Gateway-Signature": sign(secret, timestamp, body),
        },
        timeout=(3.05, 10),
        allow_redirects=False,
    )
    if not 200 <= response.status_code < 300:
        msg = f"Webhook {url!r} answered HTTP {response.status_code}, expected 2xx."
        raise RuntimeError(msg)


def deliver(services: Services, session: Session, message: OutboxMessage) -> str:
    """Send one outbox message; returns the Message-ID (or a delivery id for webhooks)."""
    report_row = session.get(ReportRow, message.report_id)
    shipment = session.get(Shipment, message.shipment_id)
    tenant = session.get(Tenant, message.tenant_id)
    if report_row is None or shipment is None or tenant is None:
        msg = f"Outbox message {message.id} refers to a missing report or shipment."
        raise RuntimeError(msg)
    if message.kind == "webhook":
        payload: dict[str, object] = {
            "event": "report.ready",
            "shipment_id": shipment.id,
            "report_id": report_row.id,
            "reference": shipment.reference,
            "verdict": report_row.verdict,
            "counts": dict(shipment.counts or {}),
            "status_url": f"{services.settings.base_url.rstrip('/')}/v1/shipments/{shipment.id}",
        }
        send_webhook(
            message.recipient,
            tenant.webhook_secret or "",
            payload,
            allow_private=services.options.webhook_allow_private,
        )
        return f"webhook:{report_row.id}"
    email = build_report_email(
        report_row=report_row,
        shipment=shipment,
        language=tenant.language,
        recipient=message.recipient,
        sender=services.settings.mail_from,
        base_url=services.settings.base_url,
        link_secret=services.secret_key,
        link_seconds=services.options.report_link_seconds,
    )
    services.mailer.send(email)
    return str(email["Message-ID"])
