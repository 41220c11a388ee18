"""API v1 over the Flask test client, with the fake pipeline and a recording executor."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from gateway.domain import Report
from gateway.jobs.run import run_shipment
from gateway.reports.formats import render
from gateway.services import Services
from gateway.storage.codec import report_from_data
from gateway.storage.models import ReportRow, Shipment, ShipmentDocument
from tests.factories import bearer


def report_of(services: Services, shipment_id: str) -> Report:
    with services.sessions() as session:
        row = session.query(ReportRow).filter(ReportRow.shipment_id == shipment_id).one()
        return report_from_data(row.body)


def test_upload_answers_202_after_documents_and_row_are_stored(
    services: Services, client: FlaskClient, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _tenant_id, key = tenant
    response = upload(key, reference="PO-1", destination="de", transport_mode="sea")
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "received"
    assert response.headers["Location"] == f"/v1/shipments/{body['id']}"
    assert body["destination"] == "DE"
    with services.sessions() as session:
        assert session.get(Shipment, body["id"]) is not None
        doc = session.query(ShipmentDocument).filter_by(shipment_id=body["id"]).one()
        assert doc.blob_key is not None
        assert services.blobs.get(doc.blob_key) == b"code\nKEY:a1\n"
        assert "m.csv" not in doc.blob_key
    assert cast(Any, services.executor).submitted == [body["id"]]


def test_a_retried_upload_returns_the_same_shipment(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    first = upload(key, headers={"Idempotency-Key": "abc-1"}, reference="R")
    again = upload(key, headers={"Idempotency-Key": "abc-1"}, reference="R")
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    with services.sessions() as session:
        assert session.query(Shipment).count() == 1


def test_the_same_key_with_other_content_is_refused(
    tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    assert upload(key, headers={"Idempotency-Key": "k"}).status_code == 202
    other = upload(key, files=[("m.csv", b"code\nKEY:zz\n")], headers={"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"


def test_an_upload_still_in_flight_answers_409(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    from gateway.storage.repo import TenantRepo

    tenant_id, key = tenant
    assert upload(key, headers={"Idempotency-Key": "busy"}).status_code == 202
    with services.sessions() as session:  # as if the first request were still storing
        record = TenantRepo(session, tenant_id).idempotency("busy")
        assert record is not None
        record.response = None
        session.commit()
    response = upload(key, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert response.headers["Retry-After"]


def test_unsupported_types_are_refused_before_anything_is_stored(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    response = upload(key, files=[("evil.pdf", b"MZ\x90\x00 not a pdf")])
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_document"
    assert "evil.pdf" in response.get_json()["error"]["message"]
    with services.sessions() as session:
        assert session.query(Shipment).count() == 0
    blobs = Path(services.settings.data_dir) / "blobs"
    assert not list(blobs.glob("*/*"))


def test_too_many_documents_answer_413(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    files = [(f"m{i}.csv", b"code\nKEY:a\n") for i in range(services.settings.max_documents + 1)]
    response = upload(key, files=files)
    assert response.status_code == 413
    assert "at most" in response.get_json()["error"]["message"]


def test_a_request_over_the_size_limit_answers_413(app: Flask, tenant: tuple[str, str]) -> None:
    _, key = tenant
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = app.test_client().post(
        "/v1/shipments",
        data={"documents": [(io.BytesIO(b"a" * 20_000), "big.csv")]},
        headers=bearer(key),
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "document_too_large"


def test_an_ordinary_photo_of_several_hundred_kilobytes_is_accepted(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    # binary file parts stream through the multipart decoder in 64 KiB reads: the form
    # memory limit (meant for text fields) must not refuse them
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(3).integers(0, 256, (1125, 1500, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="JPEG", quality=80)
    photo = buffer.getvalue()
    assert 500_000 < len(photo) < 3_000_000
    # the body encoded here: the test client would spool it to a file it never closes
    boundary = "gateway-test-boundary-7d1f"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="documents"; '
            f'filename="label.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + photo
        + f"\r\n--{boundary}--\r\n".encode()
    )
    _, key = tenant
    response = client.post(
        "/v1/shipments",
        data=body,
        headers=bearer(key),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 202, response.get_data()[:300]


@pytest.mark.parametrize(
    ("written", "code"),
    [("Germany", "DE"), ("德国", "DE"), ("deu", "DE"), ("Georgia", "GE"), ("ge", "GE")],
)
def test_a_destination_is_taken_as_a_code_or_a_country_name(
    tenant: tuple[str, str], upload: Callable[..., Any], written: str, code: str
) -> None:
    _, key = tenant
    response = upload(key, destination=written)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["destination"] == code


def test_an_unknown_destination_names_the_forms_it_accepts(
    tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    response = upload(key, destination="Germanz")
    assert response.status_code == 422
    (message,) = response.get_json()["error"]["details"]["destination"]
    assert "'Germanz'" in message
    assert "Germany" in message
    assert "德国" in message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"destination": "Atlantis"}, "destination"),
        ({"destination": "XX"}, "destination"),
        ({"transport_mode": "teleport"}, "transport_mode"),
        ({"notify": "not-an-address"}, "notify"),
        ({"notify": "a@example.com\r\nBcc: x@evil.test"}, "notify"),
        ({"metadata": "{not json"}, None),
    ],
)
def test_bad_metadata_answers_4xx_naming_the_field(
    services: Services,
    tenant: tuple[str, str],
    upload: Callable[..., Any],
    fields: dict[str, str],
    field: str | None,
) -> None:
    _, key = tenant
    response = upload(key, **fields)
    assert response.status_code in (400, 422)
    error = response.get_json()["error"]
    if field:
        assert field in error["details"]
    with services.sessions() as session:
        assert session.query(Shipment).count() == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
)
def test_requests_without_a_valid_key_answer_401(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    response = client.get("/v1/shipments", headers=headers)
    assert response.status_code == 401
    assert set(response.get_json()["error"]) == {"code", "message", "details"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_foreign_shipment_answers_exactly_like_an_unknown_one(
    services: Services,
    client: FlaskClient,
    upload: Callable[..., Any],
    make_tenant: Callable[..., tuple[str, str]],
) -> None:
    _, owner_key = make_tenant(services)
    _, other_key = make_tenant(services)
    shipment_id = upload(owner_key).get_json()["id"]
    foreign = client.get(f"/v1/shipments/{shipment_id}", headers=bearer(other_key))
    unknown = client.get(f"/v1/shipments/{'0' * 32}", headers=bearer(other_key))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.get_json()["error"]["code"] == unknown.get_json()["error"]["code"]
    for path in ("report", "declare"):
        method = client.post if path == "declare" else client.get
        assert (
            method(f"/v1/shipments/{shipment_id}/{path}", headers=bearer(other_key)).status_code
            == 404
        )
    listed = client.get("/v1/shipments", headers=bearer(other_key)).get_json()
    assert listed["items"] == []


def test_status_moves_to_done_with_verdict_counts_and_report(
    services: Services, client: FlaskClient, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    shipment_id = upload(key, files=[("m.csv", b"KEY:u1\nKEY:u2\nBLOCK\n")]).get_json()["id"]
    before = client.get(f"/v1/shipments/{shipment_id}/report", headers=bearer(key))
    assert before.status_code == 409
    assert before.get_json()["error"]["code"] == "report_not_ready"
    assert run_shipment(services, shipment_id) == "done"
    body = client.get(f"/v1/shipments/{shipment_id}", headers=bearer(key)).get_json()
    assert (body["status"], body["verdict"], body["progress"]) == ("done", "block", 100)
    assert body["counts"]["units"] == 2
    report = client.get(body["report_url"], headers=bearer(key))
    assert report.status_code == 200
    assert report.get_json()["verdict"] == "block"


@pytest.mark.parametrize(
    ("query", "accept", "media"),
    [
        ("?format=csv", None, "text/csv"),
        ("", "text/csv", "text/csv"),
        ("?format=xlsx", None, "application/vnd.openxmlformats"),
        ("?format=html", None, "text/html"),
        ("", "text/html", "text/html"),
        ("?format=json", None, "application/json"),
    ],
)
def test_report_formats_by_query_or_accept(
    services: Services,
    client: FlaskClient,
    tenant: tuple[str, str],
    upload: Callable[..., Any],
    query: str,
    accept: str | None,
    media: str,
) -> None:
    _, key = tenant
    shipment_id = upload(key, files=[("m.csv", b"KEY:u1\nBLOCK\n")]).get_json()["id"]
    run_shipment(services, shipment_id)
    headers = {**bearer(key), **({"Accept": accept} if accept else {})}
    response = client.get(f"/v1/shipments/{shipment_id}/report{query}", headers=headers)
    assert response.status_code == 200
    assert response.content_type.startswith(media)
    if media == "text/csv":  # a file for Excel: UTF-8 with its BOM, as every door writes it
        assert response.data.startswith(b"\xef\xbb\xbf")
        assert response.data == render(report_of(services, shipment_id), "csv", "en")
    if "openxml" in media:
        book = load_workbook(io.BytesIO(response.data))
        assert book.sheetnames
        assert response.headers["Content-Disposition"].startswith("attachment")
    if media == "text/html":
        csp = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp
        assert "default-src 'none'" in csp


def test_unknown_report_format_answers_400(
    services: Services, client: FlaskClient, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    shipment_id = upload(key).get_json()["id"]
    run_shipment(services, shipment_id)
    response = client.get(f"/v1/shipments/{shipment_id}/report?format=docx", headers=bearer(key))
    assert response.status_code == 400
    assert "docx" in response.get_json()["error"]["message"]


def test_declared_codes_become_history_for_later_shipments(
    services: Services,
    client: FlaskClient,
    tenant: tuple[str, str],
    upload: Callable[..., Any],
    fake_checker: Any,
) -> None:
    _, key = tenant
    first = upload(key, files=[("m.csv", b"KEY:u1\nKEY:u2\n")]).get_json()["id"]
    early = client.post(f"/v1/shipments/{first}/declare", headers=bearer(key))
    assert early.status_code == 409
    run_shipment(services, first)
    declared = client.post(f"/v1/shipments/{first}/declare", headers=bearer(key))
    assert declared.status_code == 200
    assert declared.get_json()["new_codes"] == 2
    assert (
        client.post(f"/v1/shipments/{first}/declare", headers=bearer(key)).get_json()["new_codes"]
        == 0
    )
    second = upload(key, files=[("n.csv", b"KEY:u2\nKEY:u9\n")]).get_json()["id"]
    run_shipment(services, second)
    assert fake_checker.seen_history[-1] == {"u2": first}


def test_list_filters_by_status_and_verdict_and_paginates(
    services: Services, client: FlaskClient, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    ids = [
        upload(key, files=[("m.csv", f"KEY:{i}\n".encode())], reference=f"R{i}").get_json()["id"]
        for i in range(5)
    ]
    run_shipment(services, ids[0])
    done = client.get("/v1/shipments?status=done", headers=bearer(key)).get_json()["items"]
    assert [s["id"] for s in done] == [ids[0]]
    clear = client.get("/v1/shipments?verdict=clear", headers=bearer(key)).get_json()["items"]
    assert [s["id"] for s in clear] == [ids[0]]
    seen, url = [], "/v1/shipments?limit=2"
    for _ in range(5):
        page = client.get(url, headers=bearer(key)).get_json()
        seen += [s["id"] for s in page["items"]]
        if not page["next_cursor"]:
            break
        url = f"/v1/shipments?limit=2&cursor={page['next_cursor']}"
    assert sorted(seen) == sorted(ids)
    bad = client.get("/v1/shipments?limit=0&status=lost", headers=bearer(key))
    assert bad.status_code == 422
    assert {"limit", "status"} <= set(bad.get_json()["error"]["details"])
    garbage = client.get("/v1/shipments?cursor=%%%", headers=bearer(key))
    assert garbage.status_code == 400


def test_codes_check_gives_each_code_its_verdict(
    client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    response = client.post("/v1/codes/check", json={"codes": ["A1", "B2X"]}, headers=bearer(key))
    assert response.status_code == 200
    body = response.get_json()
    assert body["verdict"] == "block"
    assert [(c["code"], c["verdict"]) for c in body["codes"]] == [("A1", "clear"), ("B2X", "block")]


@pytest.mark.parametrize("body", [None, [], {"codes": []}, {"codes": "A1"}, {"codes": [1, 2]}])
def test_codes_check_refuses_malformed_bodies_with_4xx(
    client: FlaskClient, tenant: tuple[str, str], body: Any
) -> None:
    _, key = tenant
    response = client.post("/v1/codes/check", json=body, headers=bearer(key))
    assert 400 <= response.status_code < 500


def test_codes_check_caps_the_number_of_codes(
    services: Services, client: FlaskClient, tenant: tuple[str, str]
) -> None:
    _, key = tenant
    codes = ["A"] * (services.options.max_codes + 1)
    response = client.post("/v1/codes/check", json={"codes": codes}, headers=bearer(key))
    assert response.status_code == 413


def test_rate_limit_answers_429_with_retry_after(app: Flask, tenant: tuple[str, str]) -> None:
    from gateway.api.ratelimit import MemoryRateLimiter

    _, key = tenant
    app.extensions["gateway.limiter"] = MemoryRateLimiter(per_minute=1, burst=2)
    client = app.test_client()
    statuses = [client.get("/v1/shipments", headers=bearer(key)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.get("/v1/shipments", headers=bearer(key))
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["error"]["code"] == "rate_limited"


def test_health_ready_and_metrics(client: FlaskClient, tenant: tuple[str, str]) -> None:
    _, key = tenant
    assert client.get("/healthz").get_json() == {"status": "ok"}
    client.post("/v1/codes/check", json={"codes": ["A1"]}, headers=bearer(key))
    ready = client.get("/readyz")
    assert ready.get_json()["checks"]["database"] == "ok"
    assert ready.status_code in (200, 503)
    text = client.get("/metrics").get_data(as_text=True)
    assert "# TYPE gateway_http_requests_total counter" in text
    assert 'gateway_codes_checked_total{via="codes"}' in text


def test_openapi_document_lists_every_api_route(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {p for p in spec["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/v1/") and rule.rule != "/v1/openapi.json":
            assert rule.rule.replace("<", "{").replace(">", "}") in documented
    assert client.get("/docs").status_code == 200


def test_unknown_routes_and_methods_use_the_error_shape(client: FlaskClient) -> None:
    missing = client.get("/v1/nothing")
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) == {"code", "message", "details"}
    wrong = client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"


def test_readiness_fails_when_the_platform_does_not_answer(tmp_path: Path) -> None:
    import socket

    from gateway.api.app import build_app
    from gateway.config import Settings
    from gateway.storage.db import upgrade
    from gateway.wiring import build_services

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        data_dir=str(tmp_path),
        secret_key="s",
        key_pepper="p",
        platform_backend="http",
        platform_url=f"http://127.0.0.1:{port}",
        platform_timeout_connect=0.5,
        platform_timeout_read=0.5,
    )
    svc = build_services(settings)
    upgrade(svc.engine)
    try:
        ready = build_app(settings, services=svc).test_client().get("/readyz")
    finally:
        svc.close()
    assert ready.status_code == 503
    checks = ready.get_json()["checks"]
    assert checks["database"] == "ok"
    assert checks["platform"] != "ok"


def test_a_recheck_keeps_every_report_version_and_says_what_changed(
    services: Services, client: FlaskClient, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _tenant_id, key = tenant
    files = [("manifest.csv", b"code\nKEY:a1\nBLOCK\n"), ("labels.csv", b"code\nKEY:a2\n")]
    first = upload(key, files=files, reference="PO-9").get_json()
    sid = first["id"]
    # corrections are refused while the first check runs

    def correct() -> Any:
        return client.post(
            f"/v1/shipments/{sid}/documents",
            data={"documents": [(io.BytesIO(b"code\nKEY:a1\n"), "manifest.csv")]},
            headers=bearer(key),
            content_type="multipart/form-data",
        )

    early = correct()
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "shipment_open"
    run_shipment(services, sid)
    v1 = client.get(f"/v1/shipments/{sid}/report?format=json", headers=bearer(key)).get_json()
    assert v1["verdict"] == "block"
    assert "changes" not in v1

    corrected = correct()
    assert corrected.status_code == 202
    body = corrected.get_json()
    assert body["status"] == "received"
    assert body["round"] == 2
    # the corrected manifest replaced the first; the label file stays
    assert sorted((d["filename"], d["round"]) for d in body["documents"]) == [
        ("labels.csv", 1),
        ("manifest.csv", 2),
    ]
    run_shipment(services, sid)

    v2 = client.get(f"/v1/shipments/{sid}/report?format=json", headers=bearer(key)).get_json()
    assert v2["verdict"] == "clear"
    assert v2["version"] == 2
    assert [f["code"] for f in v2["changes"]["fixed"]] == ["FAKE_BLOCK"]
    assert v2["changes"]["new"] == []
    assert v2["changes"]["verdict"] == {"before": "block", "after": "clear"}
    assert {u["key"] for u in v2["units"]} == {"a1", "a2"}
    # every version is kept and listed
    listed = client.get(f"/v1/shipments/{sid}/reports", headers=bearer(key)).get_json()["items"]
    assert [(r["version"], r["verdict"]) for r in listed] == [(1, "block"), (2, "clear")]
    assert listed[1]["changes"] == {"fixed": 1, "new": 0, "still_open": 0}
    old = client.get(listed[0]["report_url"] + "&format=json", headers=bearer(key)).get_json()
    assert old["verdict"] == "block"
    html = client.get(f"/v1/shipments/{sid}/report?format=html&lang=en", headers=bearer(key))
    text = html.get_data(as_text=True)
    assert "What changed since report version 1" in text
    assert "与第 1 版报告相比的变化" in text
    missing = client.get(f"/v1/shipments/{sid}/report?version=7", headers=bearer(key))
    assert missing.status_code == 404
