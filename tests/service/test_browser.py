"""A forwarder's path in headless Chromium: sign in, upload a manifest, wait, download Excel."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from gateway.api.app import build_app
from gateway.config import Settings
from gateway.jobs import InlineExecutor
from gateway.services import ServiceOptions, build_services
from gateway.storage.db import upgrade
from gateway.storage.repo import Admin

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The embedded default served on a free 127.0.0.1 port: (base URL, API key)."""
    from gateway.platform_client.local import import_registry_file
    from samples.registry import write_samples

    settings = Settings(data_dir=str(tmp_path), secret_key="s", key_pepper="p")
    svc = build_services(settings, ServiceOptions())
    upgrade(svc.engine)
    import_registry_file(write_samples(tmp_path / "registry")[0], svc.engine)
    with svc.sessions.begin() as session:
        admin = Admin(session, svc.pepper)
        tenant = admin.create_tenant(f"browser-{secrets.token_hex(3)}")
        _row, key = admin.create_key(tenant.id)
    app = build_app(settings, services=svc)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}", key
    finally:
        http.shutdown()
        executor = svc._executor
        if isinstance(executor, InlineExecutor):
            executor.wait_idle(30)
        svc.close()


def test_sign_in_upload_wait_and_download_the_excel_report(
    server: tuple[str, str], tmp_path: Path, doors_browser: Any
) -> None:
    from samples.manifests import build_xlsx

    base, key = server
    manifest = tmp_path / "packing list.xlsx"
    manifest.write_bytes(build_xlsx()[0])
    # the session's Chromium (tests/conftest.py): one Playwright per process
    page = doors_browser.new_page(accept_downloads=True)
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/")
        page.fill("#api_key", key)
        page.click("#sign-in")
        page.wait_for_url(f"{base}/upload")
        page.set_input_files("#files", str(manifest))
        page.fill("#reference", "BROWSER-1")
        page.click("#submit")
        page.wait_for_selector("#open-report", timeout=60_000)
        assert int(page.get_attribute("#upload-progress", "value") or 0) == 100
        page.click("#open-report")
        page.wait_for_selector("#download-xlsx")
        with page.expect_download() as download_info:
            page.click("#download-xlsx")
        download = download_info.value
        target = tmp_path / "report.xlsx"
        download.save_as(target)
        assert download.suggested_filename.endswith(".xlsx")
        assert load_workbook(target).sheetnames
        frame = page.frame_locator("#report")
        assert frame.locator("body").inner_text(timeout=10_000).strip()
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        page.context.close()
