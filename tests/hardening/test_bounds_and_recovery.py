"""Bounds every hostile file must stay within (memory, readable messages), ordinary photos
that must upload, and a killed worker's shipment that the reconciler must re-queue."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis import Redis

from gateway.jobs.executors import queue_name
from gateway.storage.models import ShipmentStatus
from samples.hostile import HostileFile, noise_photo
from tests.factories import app_for, make_services, new_tenant, post_shipment

from .conftest import (
    MEMORY_BOUND,
    UNLIMITED,
    Rig,
    cases,
    message_problems,
    run_barcodes,
    sandbox_result,
)

pytestmark = pytest.mark.timeout(180)

_MIB = 1024 * 1024


@pytest.mark.parametrize("case", cases())
def test_rejections_explain_themselves_without_internals(case: HostileFile) -> None:
    # library messages must reach the client without tracebacks, paths or object reprs
    result = sandbox_result(case).result
    messages = [] if result["ok"] else [str(result["message"])]
    if case.is_image:
        barcode = run_barcodes(case.data).result
        if not barcode.get("ok", True) and "message" in barcode:
            messages.append(str(barcode["message"]))
    for message in messages:
        problems = message_problems(message)
        assert not problems, f"{case.name}: {problems}"


@pytest.mark.parametrize("case", [p for p in cases() if p.values[0].family != "barcode"])
def test_every_hostile_file_stays_under_512_mb(case: HostileFile) -> None:
    # FlateDecode bombs are refused before PDFium inflates them; flat pages skip OCR
    rss = int(sandbox_result(case).result["child_max_rss"])
    assert rss < MEMORY_BOUND, f"{case.name}: parser child peaked at {rss // _MIB} MiB"


def test_a_noise_photo_never_crashes_the_barcode_reader_under_512_mb() -> None:
    # under a memory cap the reader refuses the image (an InputError), it never crashes
    run = run_barcodes(noise_photo())
    assert "crashed" not in run.result, run.stderr[-800:]


def test_an_ordinary_800_kb_photo_upload_is_accepted(tmp_path: Path) -> None:
    # Werkzeug applies MAX_FORM_MEMORY_SIZE to its buffer for file parts too: at 64 KiB (its
    # read chunk) photos like this one were refused with a misleading 413
    svc = make_services(tmp_path, options=UNLIMITED)
    try:
        _tenant, key = new_tenant(svc)
        photo = noise_photo(1500, 1125)
        assert 500_000 < len(photo) < 2_000_000
        response = post_shipment(app_for(svc).test_client(), key, [("label.jpg", photo)])
        assert response.status_code == 202, response.data[:300]
    finally:
        svc.close()


@pytest.mark.integration
def test_the_reconciler_requeues_a_shipment_whose_worker_was_killed(rig: Rig) -> None:
    # rq itself notices a worker killed by SIGKILL only after its heartbeat expires (minutes);
    # the reconciler must re-queue the shipment after GATEWAY_RECONCILE_AFTER, checking that
    # the worker that started the job is gone
    from rq import Queue

    from gateway.jobs import maintenance

    ids = rig.upload(1)
    proc = rig.start_worker()
    busy = (ShipmentStatus.EXTRACTING, ShipmentStatus.VERIFYING)
    assert rig.wait(ids, lambda s: any(v in busy for v in s.values()), 30)
    rig.kill(proc)
    time.sleep(rig.svc.options.reconcile_after + 0.5)
    assert maintenance.reconcile(rig.svc) == ids  # the reconciler sees the shipment stuck ...
    connection = Redis.from_url(rig.env["GATEWAY_REDIS_URL"])
    try:
        queue = Queue(queue_name(rig.env["GATEWAY_QUEUE_PREFIX"]), connection=connection)
        assert queue.count == 1, "... but nothing was queued to run it again"
    finally:
        connection.close()
