"""Jobs: idempotent runs, rejection, retries, the reconciler, the outbox, email and webhooks."""

from __future__ import annotations

import datetime as dt
import email
import json
import threading
from collections.abc import Callable
from email import policy
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from gateway.errors import CorruptDocument
from gateway.jobs.executors import InlineExecutor
from gateway.jobs.maintenance import reconcile
from gateway.jobs.outbox import deliver_outbox
from gateway.jobs.run import run_shipment
from gateway.mail import sign
from gateway.services import Services
from gateway.storage.models import OutboxMessage, ReportRow, Shipment
from gateway.storage.repo import TenantRepo
from tests.factories import bearer


def row(session: Session, shipment_id: str) -> Shipment:
    found = session.get(Shipment, shipment_id)
    assert found is not None
    return found


def _eml(services: Services) -> list[email.message.EmailMessage]:
    folder = Path(services.settings.data_dir) / "outbox"
    return [
        email.message_from_bytes(p.read_bytes(), policy=policy.SMTP)
        for p in sorted(folder.glob("*.eml"))
    ]


def test_running_a_job_twice_gives_one_report_and_one_email_per_recipient(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any], fake_checker: Any
) -> None:
    _, key = tenant
    shipment_id = upload(key, notify="a@example.com, b@example.com").get_json()["id"]
    assert run_shipment(services, shipment_id) == "done"
    assert run_shipment(services, shipment_id) == "done"  # already final: nothing happens
    # a run that raced the first one to the end stores nothing either
    from gateway.jobs.run import _finish
    from gateway.services import CheckRequest

    report = fake_checker(
        CheckRequest(shipment_id=shipment_id, documents=()),
        history=type("H", (), {"exported": lambda self, keys: {}})(),
        progress=lambda *a: None,
    )
    with services.sessions() as session:
        tenant_id = row(session, shipment_id).tenant_id
    assert _finish(services, tenant_id, shipment_id, report) == "skipped"
    assert fake_checker.calls.count(shipment_id) == 2  # the job's run and the racing one above
    with services.sessions() as session:
        assert session.query(ReportRow).filter_by(shipment_id=shipment_id).count() == 1
        rows = session.query(OutboxMessage).filter_by(shipment_id=shipment_id).all()
        assert sorted(r.recipient for r in rows) == ["a@example.com", "b@example.com"]
        assert {r.status for r in rows} == {"sent"}
    deliver_outbox(services)
    messages = _eml(services)
    assert sorted(m["To"] for m in messages) == ["a@example.com", "b@example.com"]
    assert len({m["Message-ID"] for m in messages}) == 2


def test_report_email_has_summary_attachments_and_clean_headers(
    services: Services, make_tenant: Callable[..., tuple[str, str]], upload: Callable[..., Any]
) -> None:
    _, key = make_tenant(services, language="zh")
    shipment_id = upload(
        key, reference="PO-7\r\nBcc: victim@evil.test\u202e", notify="ops@example.com"
    ).get_json()["id"]
    run_shipment(services, shipment_id)
    [message] = _eml(services)
    subject = str(message["Subject"])
    assert "\n" not in subject
    assert "Bcc" not in message
    assert subject.startswith("电池出口校验")
    assert "\u202e" not in subject
    assert message["To"] == "ops@example.com"
    names = sorted(str(part.get_filename()) for part in message.iter_attachments())
    assert [n.rsplit(".", 1)[1] for n in names] == ["html", "pdf", "xlsx"]
    assert all(n.startswith("report-PO-7") for n in names)  # named by the reference
    assert message["Message-ID"].strip().startswith(f"<rpt_{shipment_id}.")


def test_a_document_the_pipeline_cannot_use_rejects_the_shipment(
    services: Services,
    client: FlaskClient,
    tenant: tuple[str, str],
    upload: Callable[..., Any],
    fake_checker: Any,
) -> None:
    _, key = tenant
    shipment_id = upload(key).get_json()["id"]
    fake_checker.fail_with = CorruptDocument("Failed to read 'm.csv': broken")
    assert run_shipment(services, shipment_id) == "rejected"
    body = client.get(f"/v1/shipments/{shipment_id}", headers=bearer(key)).get_json()
    assert body["status"] == "rejected"
    assert body["rejection"] == {
        "code": "corrupt_document",
        "message": "Failed to read 'm.csv': broken",
    }
    assert run_shipment(services, shipment_id) == "rejected"


def test_a_crashing_job_is_retried_then_rejected_after_the_last_attempt(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any], fake_checker: Any
) -> None:
    _, key = tenant
    shipment_id = upload(key).get_json()["id"]
    fake_checker.fail_with = RuntimeError("worker bug")
    for _ in range(services.options.max_attempts):
        with pytest.raises(RuntimeError):
            run_shipment(services, shipment_id)
    assert run_shipment(services, shipment_id) == "rejected"
    with services.sessions() as session:
        shipment = row(session, shipment_id)
        assert shipment.reason_code == "processing_failed"


def test_the_reconciler_resubmits_shipments_stuck_in_a_non_final_status(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    _, key = tenant
    stuck = upload(key).get_json()["id"]
    fresh = upload(key, files=[("n.csv", b"KEY:n\n")]).get_json()["id"]
    done = upload(key, files=[("o.csv", b"KEY:o\n")]).get_json()["id"]
    run_shipment(services, done)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with services.sessions() as session:
        for sid in (stuck, done):
            row(session, sid).status_changed_at = long_ago
        row(session, stuck).status = "extracting"  # its worker died mid-job
        session.commit()
    cast(Any, services.executor).submitted.clear()
    assert reconcile(services) == [stuck]
    assert cast(Any, services.executor).submitted == [stuck]
    assert fresh not in cast(Any, services.executor).submitted


def test_failed_deliveries_stay_pending_with_backoff_and_are_never_sent_twice(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.fail = True

        def send(self, message: email.message.EmailMessage) -> None:
            if self.fail:
                raise ConnectionRefusedError("smtp down")
            self.sent.append(str(message["Message-ID"]))

    flaky = Flaky()
    services._mailer = flaky
    _, key = tenant
    shipment_id = upload(key, notify="a@example.com").get_json()["id"]
    run_shipment(services, shipment_id)
    with services.sessions() as session:
        message = session.query(OutboxMessage).one()
        assert (message.status, message.attempts) == ("pending", 1)
        assert "smtp down" in str(message.last_error)
        message.next_attempt_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.commit()
    flaky.fail = False
    assert deliver_outbox(services) == {"sent": 1}
    assert deliver_outbox(services) == {}
    with services.sessions() as session:
        message = session.query(OutboxMessage).one()
        message.next_attempt_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.commit()
    assert deliver_outbox(services) == {}
    assert len(flaky.sent) == 1


def test_webhooks_are_signed_with_the_tenant_secret(
    services: Services, make_tenant: Callable[..., tuple[str, str]], upload: Callable[..., Any]
) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from dataclasses import replace

        services.options = replace(services.options, webhook_allow_private=True)
        url = f"http://127.0.0.1:{server.server_port}/hook"
        _, key = make_tenant(services, webhook_url=url, webhook_secret="s3cret")
        shipment_id = upload(key).get_json()["id"]
        run_shipment(services, shipment_id)
    finally:
        server.shutdown()
        server.server_close()
    [(headers, body)] = received
    assert json.loads(body)["shipment_id"] == shipment_id
    assert headers["X-Gateway-Signature"] == sign("s3cret", headers["X-Gateway-Timestamp"], body)


def test_webhooks_to_private_addresses_are_refused_by_default() -> None:
    from gateway.errors import InputError
    from gateway.mail import send_webhook

    with pytest.raises(InputError, match="https"):
        send_webhook("http://127.0.0.1:9/x", "s", {})
    with pytest.raises(InputError, match="non-public"):
        send_webhook("https://127.0.0.1:9/x", "s", {})


def test_the_inline_executor_runs_submitted_jobs(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    executor = InlineExecutor(services)
    services._executor = executor
    _, key = tenant
    ids = [
        upload(key, files=[(f"{i}.csv", f"KEY:{i}\n".encode())]).get_json()["id"] for i in range(4)
    ]
    assert executor.wait_idle(30)
    with services.sessions() as session:
        assert {row(session, i).status for i in ids} == {"done"}
    executor.shutdown()


def test_progress_is_written_while_the_job_runs(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any], fake_checker: Any
) -> None:
    seen: list[tuple[str, int]] = []
    _, key = tenant
    shipment_id = upload(key).get_json()["id"]
    original = fake_checker.__call__

    def spy(request: Any, *, history: Any, progress: Any) -> Any:
        def record(stage: str, fraction: float) -> None:
            progress(stage, fraction)
            with services.sessions() as session:
                current = row(session, shipment_id)
                seen.append((current.status, current.progress))

        return original(request, history=history, progress=record)

    services.checker = spy
    run_shipment(services, shipment_id)
    assert ("verifying", 86) in seen
    assert seen[0][0] == "extracting"


def test_purge_removes_expired_documents_but_keeps_reports(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    from gateway.jobs.purge import purge_documents

    _, key = tenant
    shipment_id = upload(key).get_json()["id"]
    run_shipment(services, shipment_id)
    assert purge_documents(services, now=dt.datetime.now(dt.UTC)) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=services.settings.retention_days + 1)
    assert purge_documents(services, now=later) == 1
    with services.sessions() as session:
        repo = TenantRepo(session, row(session, shipment_id).tenant_id)
        [doc] = repo.documents(shipment_id)
        assert doc.blob_key is None
        assert repo.report(shipment_id) is not None
    assert not list((Path(services.settings.data_dir) / "blobs").glob("*/*"))


@pytest.mark.parametrize("fails", [False, True])
def test_warm_ups_check_one_code_and_never_raise(services: Services, fails: bool) -> None:
    from gateway.api.codes import warm_up as warm_up_web
    from gateway.workers.jobs import warm_up as warm_up_worker

    seen: list[list[str]] = []

    def checker(codes: Any, *, shipment_id: str, history: Any) -> Any:
        seen.append([c.raw for c in codes])
        if fails:
            raise RuntimeError("registry down")
        return None

    services.code_checker = checker
    warm_up_worker(services)
    warm_up_web(services)
    assert seen == [["(01)09506000134352(21)WARMUP"]] * 2


def test_progress_names_the_stage_with_its_counts(
    services: Services, tenant: tuple[str, str], upload: Callable[..., Any]
) -> None:
    """Reading documents, reading labels, looking up N units, checking, report: each stage is
    on the shipment row with its counts while the check runs."""
    from gateway.jobs.run import _ProgressWriter
    from gateway.storage.models import Shipment

    tenant_id, key = tenant
    sid = upload(key).get_json()["id"]
    images = {"packing.xlsx": False, "label_1.jpg": True, "label_2.jpg": True}
    writer = _ProgressWriter(services, tenant_id, sid, images)
    seen: list[dict[str, object] | None] = []

    def stage() -> dict[str, object] | None:
        with services.sessions() as session:
            row = session.get(Shipment, sid)
            assert row is not None
            return row.stage

    for words, fraction in [
        ("reading packing.xlsx", 0.0),
        ("reading label_1.jpg", 0.33),
        ("reading label_2.jpg", 0.66),
        ("read", 1.0),
        ("looking up 12 keys", 0.0),
        ("checking rules", 0.0),
    ]:
        writer(words, fraction)
        seen.append(stage())
    writer.report()
    seen.append(stage())
    assert seen[0] == {"stage": "reading_documents", "done": 0, "total": 1}
    assert seen[1] == {"stage": "reading_labels", "done": 0, "total": 2}
    assert seen[4] == {"stage": "looking_up", "done": 0, "total": 12}
    assert seen[5] == {"stage": "checking", "done": 0, "total": 0}
    assert seen[6] == {"stage": "report", "done": 0, "total": 0}
    writer.last = 0.0  # the writer throttles repeats of one stage to twice a second
    writer("looking up 12 keys", 0.0)
    writer.last = 0.0
    writer("looked up", 0.5)
    assert stage() == {"stage": "looking_up", "done": 6, "total": 12}
