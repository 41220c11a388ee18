"""P4 at the HTTP API: the hostile corpus uploaded through `POST /v1/shipments` and run through
the real pipeline. No 5xx, no crashed job; each upload is answered 4xx with a message or is
accepted and finishes; reports and e-mails neutralise the payloads."""

from __future__ import annotations

import csv
import email
import io
import unicodedata
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from gateway.jobs import outbox, run
from gateway.services import ServiceOptions, Services
from samples.hostile import PAYLOADS, Expect, manifest_csv
from tests.factories import app_for, bearer, make_services, new_tenant, post_shipment

from .conftest import UNLIMITED, corpus

pytestmark = pytest.mark.timeout(240)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MARKERS = ("HYPERLINK", "1+1", "SUM(1", "onerror")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Services, Any, str]]:
    """The service with the real pipeline (parser sandbox, local registry), one tenant."""
    # hundreds of requests with one key: the per-key rate limit is not what this checks
    options = ServiceOptions(rate_limit=1_000_000, rate_burst=1_000_000)
    svc = make_services(tmp_path_factory.mktemp("api"), options=options)
    _tenant, key = new_tenant(svc)
    yield svc, app_for(svc).test_client(), key
    svc.close()


def _finish(svc: Services, shipment_id: str) -> str:
    """Run the job inline, as a worker would; any exception but an input error is a crash."""
    return run.run_shipment(svc, shipment_id)


def test_every_hostile_upload_is_answered_without_5xx(api: tuple[Services, Any, str]) -> None:
    svc, client, key = api
    outcomes: dict[str, str] = {}
    for case in corpus():
        response = post_shipment(client, key, [(case.filename, case.data)], reference=case.name)
        assert response.status_code < 500, f"{case.name}: {response.status_code} {response.data!r}"
        if response.status_code != 202:
            assert 400 <= response.status_code < 500
            error = response.get_json()["error"]
            assert error["message"].strip(), f"{case.name}: {error}"
            assert error["code"], f"{case.name}: {error}"
            outcomes[case.name] = f"{response.status_code} {error['code']}"
            continue
        shipment_id = response.get_json()["id"]
        final = _finish(svc, shipment_id)
        body = client.get(f"/v1/shipments/{shipment_id}", headers=bearer(key)).get_json()
        assert body["status"] == final
        assert final in ("done", "rejected"), f"{case.name}: left in {final!r}"
        if case.expect == Expect.REJECT:
            # its only document refused: the shipment is rejected, saying why, as data
            assert final == "rejected", f"{case.name} ({case.note}): {body}"
            assert body["rejection"]["code"] == "no_readable_document", body
            (refused,) = body["rejection"]["documents"]
            assert refused["reason"], body
            if refused["reason"] == "document_too_large":
                assert refused["limit"]["name"], body  # the limit it hit, by name
        if final == "rejected":
            assert body["rejection"]["message"].strip(), f"{case.name}: rejected without reason"
        else:
            for fmt in ("json", "html", "csv", "xlsx"):
                report = client.get(
                    f"/v1/shipments/{shipment_id}/report?format={fmt}", headers=bearer(key)
                )
                assert report.status_code == 200, (case.name, fmt, report.data[:300])
        outcomes[case.name] = f"{final} {body.get('verdict')}"
    # the corpus exercised every path: refused at the door, refused in the job, checked
    # (every file is within the upload size cap; its 413 is tested in tests/service)
    assert any(o.startswith("415") for o in outcomes.values()), outcomes
    assert "rejected None" in outcomes.values(), outcomes
    assert any(o.startswith("done") for o in outcomes.values()), outcomes


def test_hostile_file_names_are_stored_as_safe_display_names(
    api: tuple[Services, Any, str],
) -> None:
    _svc, client, key = api
    for case in corpus():
        if case.family != "name":
            continue
        response = post_shipment(client, key, [(case.filename, case.data)])
        if response.status_code != 202:
            # a CR/LF in the name breaks the multipart part itself: refused, with a reason
            assert 400 <= response.status_code < 500, response.data[:300]
            assert response.get_json()["error"]["message"]
            continue
        shown = response.get_json()["documents"][0]["filename"]
        assert shown.strip()
        assert "/" not in shown
        assert "\\" not in shown
        assert shown != ".."
        assert len(shown.encode()) <= 255
        bad = [c for c in shown if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
        assert not bad, f"{case.filename[:40]!r} shown as {shown!r}"


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(data: bytes) -> list[Any]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_reports_and_emails_neutralise_payloads(tmp_path: Path) -> None:
    svc = make_services(tmp_path, options=UNLIMITED)
    try:
        _tenant, key = new_tenant(svc)
        client = app_for(svc).test_client()
        payload_csv = manifest_csv(tuple((p, p) for p in PAYLOADS))
        response = post_shipment(
            client,
            key,
            [
                ("=1+1 @SUM(1,1).csv", payload_csv),
                ("<img src=x onerror=alert(1)>.csv", manifest_csv()),
            ],
            reference='=HYPERLINK("http://evil.example","ref")\r\nBcc: victim@example.com',
            notify=["ops@example.com"],
        )
        assert response.status_code == 202, response.data[:500]
        shipment_id = response.get_json()["id"]
        assert _finish(svc, shipment_id) == "done"
        url = f"/v1/shipments/{shipment_id}/report"

        html = client.get(f"{url}?format=html", headers=bearer(key)).get_data(as_text=True)
        assert "<img src=x onerror" not in html
        assert "<script>alert(1)</script>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the name is there, escaped

        cells = _csv_cells(client.get(f"{url}?format=csv", headers=bearer(key)).data)
        marked = [c for c in cells if any(m in c for m in _MARKERS)]
        assert marked, "no payload reached the CSV report"
        assert not [c for c in marked if c.startswith(_FORMULA_START)], marked

        xcells = _xlsx_cells(client.get(f"{url}?format=xlsx", headers=bearer(key)).data)
        xmarked = [
            c for c in xcells if isinstance(c.value, str) and any(m in c.value for m in _MARKERS)
        ]
        assert xmarked, "no payload reached the XLSX report"
        assert all(c.data_type == "s" for c in xmarked)
        assert not [c.value for c in xmarked if c.value.startswith(_FORMULA_START)]

        outbox.deliver_outbox(svc)
        sent = sorted((tmp_path / "outbox").rglob("*.eml"))
        assert len(sent) == 1, sent
        raw = sent[0].read_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
        message = email.message_from_bytes(raw, policy=policy.default)
        assert message["Bcc"] is None
        assert message["X-Injected"] is None
        assert b"victim@example.com" not in head
        for name, value in message.items():
            assert not set("\r\n") & set(str(value)), (name, value)
    finally:
        svc.close()
