"""Web pages (session login, CSRF, headers) and the label-scan endpoint."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import replace
from typing import Any

import pytest
import segno
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from gateway.domain import TRANSPORT_MODES, CodeOccurrence, ExtractionMethod, SourceRef
from gateway.services import Services
from tests.factories import bearer


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def _login(client: FlaskClient, key: str) -> str:
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"api_key": key, "csrf_token": token})
    assert response.status_code == 302
    page = client.get("/upload").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def test_sign_in_sets_a_hardened_session_cookie(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"api_key": key, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert key not in cookie  # the cookie names the key, it never carries it


def test_sign_in_refuses_a_wrong_key_and_a_missing_csrf_token(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    token = _csrf(client.get("/login").get_data(as_text=True))
    wrong = client.post("/login", data={"api_key": "gw_x_" + "y" * 30, "csrf_token": token})
    assert wrong.status_code == 401
    assert client.post("/login", data={"api_key": key}).status_code == 401


def test_session_uploads_need_the_csrf_token(client: FlaskClient, tenant: tuple[str, str]) -> None:
    _, key = tenant
    token = _login(client, key)
    files = {"documents": (io.BytesIO(b"KEY:a\n"), "m.csv")}
    refused = client.post("/v1/shipments", data=dict(files), content_type="multipart/form-data")
    assert refused.status_code == 401
    files = {"documents": (io.BytesIO(b"KEY:a\n"), "m.csv")}
    accepted = client.post(
        "/v1/shipments",
        data=dict(files),
        content_type="multipart/form-data",
        headers={"X-CSRF-Token": token},
    )
    assert accepted.status_code == 202
    shipment_id = accepted.get_json()["id"]
    page = client.get(f"/shipments/{shipment_id}")
    assert page.status_code == 200
    assert shipment_id in page.get_data(as_text=True)


def test_revoking_the_key_ends_the_session(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    from gateway.storage.repo import Admin, split_key

    _, key = tenant
    _login(client, key)
    parts = split_key(key)
    assert parts is not None
    with services.sessions.begin() as session:
        Admin(session, services.pepper).revoke_key(parts[0])
    assert client.get("/v1/shipments").status_code == 401


def test_pages_carry_a_csp_without_unsafe_inline(client: FlaskClient) -> None:
    for path in ("/login", "/docs"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert "<script>" not in response.get_data(as_text=True)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/upload").status_code == 302  # not signed in


def checked_shipment(
    services: Services,
    client: FlaskClient,
    key: str,
    text: bytes = b"KEY:u1\nBLOCK\n",
    **fields: str,
) -> str:
    """Upload one CSV with the given fields and run its job: the id of a checked shipment."""
    from gateway.jobs.run import run_shipment

    shipment_id = str(
        client.post(
            "/v1/shipments",
            data={"documents": (io.BytesIO(text), "m.csv"), **fields},
            headers=bearer(key),
            content_type="multipart/form-data",
        ).get_json()["id"]
    )
    assert run_shipment(services, shipment_id) == "done"
    return shipment_id


def test_text_reports_name_their_charset_once(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    shipment_id = checked_shipment(services, client, key)
    for fmt, media in (("html", "text/html"), ("csv", "text/csv")):
        response = client.get(
            f"/v1/shipments/{shipment_id}/report?format={fmt}", headers=bearer(key)
        )
        assert response.headers["Content-Type"] == f"{media}; charset=utf-8"
    page = client.get("/login")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"


def test_the_report_downloads_as_pdf_named_by_the_reference(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    shipment_id = checked_shipment(services, client, key, reference="PO 77/B")
    for lang in ("en", "zh"):
        response = client.get(
            f"/v1/shipments/{shipment_id}/report?format=pdf&lang={lang}", headers=bearer(key)
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        assert response.headers["Content-Disposition"] == (
            'attachment; filename="report-PO_77_B.pdf"'
        )
    by_accept = client.get(
        f"/v1/shipments/{shipment_id}/report", headers={**bearer(key), "Accept": "application/pdf"}
    )
    assert by_accept.data.startswith(b"%PDF-")


def _emailed(services: Services) -> list[Any]:
    import email
    from email import policy
    from pathlib import Path

    folder = Path(services.settings.data_dir) / "outbox"
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.SMTP)
        for p in sorted(folder.glob("*.eml"))
    ]


def test_the_email_says_what_blocks_and_how_to_fix_it_in_both_languages(
    services: Services, client: FlaskClient, make_tenant: Any
) -> None:
    _, key = make_tenant(services, language="zh")
    checked_shipment(services, client, key, reference="INV-88", notify="ops@example.com")
    [message] = _emailed(services)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert text.index("阻断 - 修正前请勿申报") < text.index("BLOCK - do not submit until fixed")
    for body in (text, html):
        assert "INV-88" in body
        assert "FAKE_BLOCK" in body
        assert "假阻止" in body
        assert "Blocked by the fake" in body
    assert "位置" in text
    assert "Where" in text
    names = sorted(str(p.get_filename()) for p in message.iter_attachments())
    assert names == ["report-INV-88.html", "report-INV-88.pdf", "report-INV-88.xlsx"]


def _emailed_link(services: Services) -> str:
    [message] = _emailed(services)
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"(http://\S+/r/[A-Za-z0-9_.-]+)\s", text)
    assert match is not None, text
    return match.group(1).removeprefix(services.settings.base_url)


def test_the_emailed_link_opens_that_report_only_without_a_key(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    checked_shipment(services, client, key, reference="INV-89", notify="ops@example.com")
    path = _emailed_link(services)
    anonymous = services_client(client)
    page = anonymous.get(path)
    assert page.status_code == 200
    assert "Blocked by the fake" in page.get_data(as_text=True)
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    pdf = anonymous.get(f"{path}?format=pdf")
    assert pdf.data.startswith(b"%PDF-")
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="report-INV-89.pdf"'
    assert anonymous.get(f"{path}?format=annotated").status_code == 400
    assert anonymous.get("/v1/shipments").status_code == 401  # the link grants nothing else
    altered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    refused = anonymous.get(altered)
    assert refused.status_code == 404
    assert "not valid" in refused.get_data(as_text=True)


def test_an_expired_link_is_refused_with_what_to_do(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    from gateway.api.links import read_link
    from gateway.report_links import ReportLink, sign_link
    from gateway.storage.repo import TenantRepo

    tenant_id, key = tenant
    shipment_id = checked_shipment(services, client, key)
    with services.sessions() as db:
        row = TenantRepo(db, tenant_id).report(shipment_id)
        assert row is not None
        report_id = row.id
    link = ReportLink(tenant_id, shipment_id, report_id, "en", expires=2_000_000_000)
    token = sign_link(services.secret_key, link)
    assert read_link(services.secret_key, token, now=1_999_999_999) == link
    assert client.get(f"/r/{token}").status_code == 200
    expired = sign_link(services.secret_key, ReportLink(tenant_id, shipment_id, report_id, "en", 1))
    response = client.get(f"/r/{expired}")
    assert response.status_code == 410
    assert "expired on 1970-01-01 00:00 UTC" in response.get_data(as_text=True)
    foreign = sign_link("another-secret", link)
    assert client.get(f"/r/{foreign}").status_code == 404


def services_client(client: FlaskClient) -> FlaskClient:
    """A client of the same app without the cookies of `client` (someone else's browser)."""
    return client.application.test_client()


def test_the_page_language_defaults_to_the_tenant_and_the_choice_is_remembered(
    services: Services, client: FlaskClient, make_tenant: Any
) -> None:
    _, key = make_tenant(services, language="zh")
    token = _login(client, key)
    assert "核查一票货物" in client.get("/upload").get_data(as_text=True)
    switched = client.post("/language", data={"lang": "en", "next": "/upload", "csrf_token": token})
    assert switched.status_code == 302
    assert switched.headers["Location"] == "/upload"
    assert "Max-Age=31536000" in switched.headers["Set-Cookie"]
    assert "Check a shipment" in client.get("/upload").get_data(as_text=True)
    away = client.post(
        "/language", data={"lang": "zh", "next": "//evil.example/", "csrf_token": token}
    )
    assert away.headers["Location"] == "/"  # never a redirect off the site
    assert client.post("/language", data={"lang": "fr", "csrf_token": token}).status_code == 400
    assert client.post("/language", data={"lang": "zh"}).status_code == 401  # CSRF


def test_the_language_choice_follows_the_user_to_another_browser(
    services: Services, client: FlaskClient, make_tenant: Any
) -> None:
    from gateway.storage.repo import Admin

    tenant_id, key = make_tenant(services, language="zh")
    with services.sessions.begin() as session:
        _row, colleague = Admin(session, services.pepper).create_key(tenant_id)
    token = _login(client, key)
    client.post("/language", data={"lang": "en", "next": "/upload", "csrf_token": token})
    elsewhere = services_client(client)  # the same user signs in on another computer
    _login(elsewhere, key)
    assert "Check a shipment" in elsewhere.get("/upload").get_data(as_text=True)
    other = services_client(client)  # a colleague of the same forwarder keeps the tenant's
    _login(other, colleague)
    assert "核查一票货物" in other.get("/upload").get_data(as_text=True)


def test_every_page_has_an_icon(client: FlaskClient) -> None:
    from PIL import Image

    assert 'rel="icon" href="/favicon.ico"' in client.get("/login").get_data(as_text=True)
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/x-icon"
    assert Image.open(io.BytesIO(response.data)).format == "ICO"


def _qr_png(text: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def test_a_label_photo_gets_a_verdict_per_code(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    response = client.post(
        "/v1/scans",
        data=_qr_png("BATTERY-9X"),
        headers={**bearer(key), "Content-Type": "image/png"},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert [
        (c["code"].endswith("BATTERY-9X"), c["verdict"], c["color"]) for c in body["codes"]
    ] == [(True, "block", "red")]


def test_a_scan_can_return_the_annotated_photo(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    data = _qr_png("OK-1")
    as_json = client.post("/v1/scans?annotate=1", data=data, headers=bearer(key)).get_json()
    image = Image.open(io.BytesIO(base64.b64decode(as_json["annotated_jpeg"])))
    assert image.format == "JPEG"
    assert as_json["codes"][0]["color"] == "green"
    as_jpeg = client.post(
        "/v1/scans?annotate=1", data=data, headers={**bearer(key), "Accept": "image/jpeg"}
    )
    assert as_jpeg.content_type == "image/jpeg"
    assert as_jpeg.data[:3] == b"\xff\xd8\xff"


def test_the_marked_up_photo_is_decoded_and_drawn_outside_the_web_process(
    client: FlaskClient, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2
    from PIL import ImageFile

    import gateway.barcodes

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the web process decoded the photo")

    _, key = tenant
    data = _qr_png("OK-2")
    with monkeypatch.context() as patched:
        # every way this process could decode pixels: the label reader's loader, Pillow's
        # pixel decoding and OpenCV's (the header of the photo is still read here, no pixels)
        patched.setattr(gateway.barcodes, "load_image", refuse)
        patched.setattr(ImageFile.ImageFile, "load", refuse)
        patched.setattr(cv2, "imdecode", refuse)
        patched.setattr(cv2, "imread", refuse)
        as_json = client.post("/v1/scans?annotate=1", data=data, headers=bearer(key)).get_json()
        as_jpeg = client.post(
            "/v1/scans?annotate=1", data=data, headers={**bearer(key), "Accept": "image/jpeg"}
        )
    assert not any("marked-up" in note for note in as_json.get("notes", []))
    assert as_json["codes"][0]["color"] == "green"
    image = Image.open(io.BytesIO(base64.b64decode(as_json["annotated_jpeg"])))
    assert (image.format, image.size) == ("JPEG", Image.open(io.BytesIO(data)).size)
    assert as_jpeg.content_type == "image/jpeg"
    assert as_jpeg.headers["X-Gateway-Verdict"] == as_json["verdict"]
    assert as_jpeg.data == base64.b64decode(as_json["annotated_jpeg"])


def test_a_marked_up_photo_that_cannot_be_drawn_leaves_the_verdicts_with_a_note(
    client: FlaskClient, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.api import codes
    from gateway.parsers.warm import ReaderPool

    # an output cap the read's answer (under 1 KB) fits in and the drawn JPEG does not: the
    # annotation child overruns a limit of the sandbox, as a hostile photo would
    pool = ReaderPool(replace(codes.SCAN_LIMITS, max_output_bytes=4000))
    monkeypatch.setattr(codes, "_readers", pool)
    _, key = tenant
    data = _qr_png("OK-3")
    try:
        plain = client.post("/v1/scans", data=data, headers=bearer(key)).get_json()
        as_json = client.post("/v1/scans?annotate=1", data=data, headers=bearer(key))
        as_jpeg = client.post(
            "/v1/scans?annotate=1&lang=zh",
            data=data,
            headers={**bearer(key), "Accept": "image/jpeg"},
        )
    finally:
        pool.close()
    for response in (as_json, as_jpeg):
        assert response.status_code == 200
        assert response.content_type == "application/json"
        assert response.headers["X-Gateway-Verdict"] == plain["verdict"]
        body = response.get_json()
        assert "annotated_jpeg" not in body
        assert body["codes"] == plain["codes"]
        assert body["verdict"] == plain["verdict"]
        assert "max_output_bytes" not in body["notes"][-1]  # the limit is said in words
        assert "4000 bytes" in body["notes"][-1]
    assert as_json.get_json()["notes"][-1].startswith("The marked-up photo could not be drawn")
    assert as_jpeg.get_json()["notes"][-1].startswith("未能生成标注照片")


def test_a_marked_up_photo_that_fails_unexpectedly_still_leaves_the_verdicts(
    client: FlaskClient, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.api import codes

    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise ConnectionError("the fork server went away")

    monkeypatch.setattr(codes._readers, "annotate", broken)
    _, key = tenant
    response = client.post("/v1/scans?annotate=1", data=_qr_png("OK-4"), headers=bearer(key))
    body = response.get_json()
    assert response.status_code == 200
    assert [c["color"] for c in body["codes"]] == ["green"]
    # what went wrong inside is logged, not told to the scanner
    assert body["notes"][-1] == "The marked-up photo could not be drawn; the verdicts above stand."


def test_a_photo_without_a_code_is_never_clear(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    buffer = io.BytesIO()
    Image.new("L", (200, 200), 255).save(buffer, format="PNG")
    body = client.post("/v1/scans", data=buffer.getvalue(), headers=bearer(key)).get_json()
    assert body["verdict"] == "hold"
    assert body["codes"] == []
    # the person at the dock is told how to take the photo again
    assert body["retake"]["code"] == "no_barcode"
    assert body["retake"]["message"]
    zh = client.post("/v1/scans?lang=zh", data=buffer.getvalue(), headers=bearer(key)).get_json()
    assert zh["retake"]["message"] != body["retake"]["message"]


def test_a_scanned_gs1_code_comes_back_in_bracket_form_beside_its_text(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    data = _qr_png("https://id.gs1.org/01/09506000134352/21/SN1")
    (entry,) = client.post("/v1/scans", data=data, headers=bearer(key)).get_json()["codes"]
    assert entry["code"].endswith("https://id.gs1.org/01/09506000134352/21/SN1")
    assert entry["bracketed"] == "(01)09506000134352(21)SN1"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", 415),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, 400),
        (b"", 400),
    ],
)
def test_bad_photos_answer_4xx(
    client: FlaskClient, tenant: tuple[str, str], data: bytes, status: int
) -> None:
    _, key = tenant
    response = client.post("/v1/scans", data=data, headers=bearer(key))
    assert response.status_code == status
    assert "error" in response.get_json()


def test_photos_over_the_pixel_limit_are_refused_from_the_header(
    app: Flask, services: Services, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    services.options = replace(services.options, scan_max_pixels=100 * 100)
    buffer = io.BytesIO()
    Image.new("L", (101, 100), 255).save(buffer, format="PNG")
    response = app.test_client().post("/v1/scans", data=buffer.getvalue(), headers=bearer(key))
    assert response.status_code == 413
    assert "101x100" in response.get_json()["error"]["message"]


def test_a_photo_whose_reader_overruns_gets_a_clear_error_and_the_next_scan_is_read(
    client: FlaskClient, tenant: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.api import codes
    from gateway.parsers.warm import ReaderPool

    _, key = tenant
    data = _qr_png("OK-2")
    stuck = ReaderPool(replace(codes.SCAN_LIMITS, wall_seconds=0.001))
    monkeypatch.setattr(codes, "_readers", stuck)
    response = client.post("/v1/scans", data=data, headers=bearer(key))
    assert 400 <= response.status_code < 500
    assert "wall-clock limit" in response.get_json()["error"]["message"]
    stuck.close()
    monkeypatch.undo()
    # the web process and the warm readers of everyone else go on as before
    (entry,) = client.post("/v1/scans", data=data, headers=bearer(key)).get_json()["codes"]
    assert entry["code"].endswith("OK-2")


def test_large_photos_are_read_at_half_size_with_quads_in_photo_pixels(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    label = Image.open(io.BytesIO(_qr_png("BIG-1", scale=12))).convert("L")
    photo = Image.new("L", (2400, 1800), 230)
    photo.paste(label, (1500, 1000))
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=90)
    body = client.post("/v1/scans", data=buffer.getvalue(), headers=bearer(key)).get_json()
    [code] = body["codes"]
    xs = [x for x, _ in code["quad"]]
    ys = [y for _, y in code["quad"]]
    # the symbol sits at (1500, 1000) in the photo: quads must not be in half-size pixels
    assert 1450 < min(xs) < 1700
    assert 950 < min(ys) < 1200


def test_history_finds_shipments_by_reference_file_name_unit_code_and_filters(
    any_db_services: Services, make_tenant: Any
) -> None:
    from gateway.api.app import build_app
    from gateway.jobs.run import run_shipment

    app = build_app(any_db_services.settings, services=any_db_services)
    client = app.test_client()
    _, key = make_tenant(any_db_services)
    uploads = [
        ("PO-100", "packing_A.csv", b"KEY:(01)09506000134352(21)UNIT-AAA\n", "Germany"),
        ("PO-200", "发票_B.csv", b"KEY:UNIT-BBB\nBLOCK\n", "FR"),
        ("INV-300", "list_C.csv", b"KEY:UNIT-CCC\n", "德国"),
    ]
    for reference, name, text, destination in uploads:
        response = client.post(
            "/v1/shipments",
            data={
                "documents": (io.BytesIO(text), name),
                "reference": reference,
                "destination": destination,
            },
            headers=bearer(key),
            content_type="multipart/form-data",
        )
        assert run_shipment(any_db_services, response.get_json()["id"]) == "done"

    def found(query: str) -> list[str]:
        body = client.get(f"/v1/shipments?{query}", headers=bearer(key)).get_json()
        return sorted(item["reference"] for item in body["items"])

    assert found("q=UNIT-AAA") == ["PO-100"]  # a unit code inside the report
    assert found("q=09506000134352") == ["PO-100"]
    assert found("q=发票") == ["PO-200"]  # a document's name
    assert found("q=po-") == ["PO-100", "PO-200"]  # part of the reference, any case
    assert found("q=%25") == []  # a % is a character, not a wildcard
    assert found("destination=Germany") == ["INV-300", "PO-100"]
    assert found("verdict=block") == ["PO-200"]
    page = client.get("/v1/shipments?limit=2", headers=bearer(key)).get_json()
    rest = client.get(
        f"/v1/shipments?limit=2&cursor={page['next_cursor']}", headers=bearer(key)
    ).get_json()
    assert len(page["items"]) + len(rest["items"]) == 3
    assert rest["next_cursor"] is None

    _login(client, key)
    html = client.get("/upload?q=UNIT-CCC&destination=德国").get_data(as_text=True)
    assert "INV-300" in html
    assert "PO-100" not in html
    assert "No shipment matches." in client.get("/upload?q=nothing-like-it").get_data(as_text=True)
    wrong = client.get("/upload?destination=Atlantis&from=2026-13-01").get_data(as_text=True)
    assert "Unknown country" in wrong


def test_history_pages_through_older_shipments(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    from gateway.api.pages import HISTORY_PAGE

    _, key = tenant
    for number in range(HISTORY_PAGE + 1):
        client.post(
            "/v1/shipments",
            data={"documents": (io.BytesIO(b"KEY:a\n"), "m.csv"), "reference": f"R-{number:02d}"},
            headers=bearer(key),
            content_type="multipart/form-data",
        )
    _login(client, key)
    first = client.get("/upload").get_data(as_text=True)
    assert first.count('href="/shipments/') == HISTORY_PAGE
    older = re.search(r'id="older" href="([^"]+)"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert second.count('href="/shipments/') == 1
    assert "R-00" in second
    assert 'id="older"' not in second


def test_an_amber_scan_always_says_why() -> None:
    from gateway.api.codes import per_code
    from gateway.pipeline import ShipmentFacts, check_codes
    from gateway.platform_client.local import InMemoryRegistry

    raw = "]C100350123450000042429"  # a pallet's SSCC, in no registration
    code = CodeOccurrence(raw, SourceRef("scan", page=1), ExtractionMethod.BARCODE_IMAGE)
    report = check_codes(
        [code], platform=InMemoryRegistry([]), facts=ShipmentFacts(shipment_id="s")
    )
    for lang, words in (("en", "logistic unit"), ("zh", "物流单元")):
        (entry,) = per_code(report, [raw], lang)
        assert entry["verdict"] == "hold"
        assert not entry["findings"]
        assert words in entry["reason"]


def test_docs_page_renders_the_whole_openapi_document(client: FlaskClient) -> None:
    """Every operation with its parameters, bodies, responses and examples, every schema."""
    from gateway.api.openapi import spec

    page = client.get("/docs").get_data(as_text=True)
    doc = spec()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            anchor = f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "")
            assert f'id="{anchor}"' in page, (method, path)
            for parameter in op.get("parameters", ()):
                assert f"<code>{parameter['name']}</code>" in page
            for status in op.get("responses", {}):
                assert f"<code>{status}</code>" in page
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # the request fields of an upload, an enum, and the examples
    assert "<code>transport_mode</code>" in page
    assert "<code>multimodal</code>" in page
    assert "INV-2026-1120" in page
    assert "curl -sS -X POST" in page
    assert "CHECK_DIGIT_INVALID" in page
    # nothing is loaded from elsewhere, and no script is needed
    assert "<script" not in page
    assert "https://" not in page.replace("https://id.gs1.org", "")


def test_the_upload_form_offers_every_transport_mode_the_api_accepts_in_the_page_language(
    services: Services, client: FlaskClient, make_tenant: Any
) -> None:
    _, key = make_tenant(services, language="zh")
    _login(client, key)
    page = client.get("/upload").get_data(as_text=True)
    select = page.split('id="transport_mode"', 1)[1].split("</select>", 1)[0]
    offered = re.findall(r'<option value="([a-z]+)">([^<]+)</option>', select)
    assert [value for value, _ in offered] == list(TRANSPORT_MODES)
    assert dict(offered)["sea"] == "海运"
    assert dict(offered)["post"] == "邮寄"
