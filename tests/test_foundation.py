"""The project's foundation: settings and the command group."""

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import Settings


def test_settings_from_env_reads_gateway_variables():
    s = Settings.from_env({"GATEWAY_MAX_DOCUMENTS": "7", "GATEWAY_REDIS_URL": "redis://x"})
    assert s.max_documents == 7
    assert s.redis_url == "redis://x"


def test_settings_from_env_names_the_bad_variable():
    with pytest.raises(ValueError, match="GATEWAY_MAX_DOCUMENTS"):
        Settings.from_env({"GATEWAY_MAX_DOCUMENTS": "many"})


def test_settings_never_print_secrets():
    s = Settings(platform_token="s3cret", secret_key="k3y")
    assert "s3cret" not in repr(s)
    assert "k3y" not in repr(s)


def test_sqlite_is_the_default_database(tmp_path):
    s = Settings(data_dir=str(tmp_path))
    assert s.effective_database_url == f"sqlite:///{tmp_path}/gateway.sqlite3"


def test_gateway_command_lists_help():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Battery export validation gateway" in result.output


def test_unit_key_kinds_are_one_set_for_the_platform_client_and_the_rules():
    from gateway.gs1 import check_digit, decode
    from gateway.platform_client.keys import is_unit_key

    sscc = "10690123400000001" + check_digit("10690123400000001")
    codes = {
        "(01)06901234567892(21)SN1": True,
        f"(00){sscc}": True,  # looked up; the rules count it only when the registry has it
        "(8004)0690123ASSET1": True,
        "(01)06901234567892": False,
        "(01)06901234567892(10)L1": False,
    }
    for raw, unit in codes.items():
        code = decode(raw)
        assert code.key is not None, raw
        assert is_unit_key(code.key) is unit, raw


def test_service_knobs_are_read_by_the_one_settings_reader():
    from dataclasses import fields

    from gateway.services import ServiceOptions

    env = {"GATEWAY_RATE_LIMIT": "7", "GATEWAY_WEBHOOK_ALLOW_PRIVATE": "yes"}
    options = ServiceOptions.from_settings(Settings.from_env(env))
    assert (options.rate_limit, options.webhook_allow_private) == (7, True)
    defaults = Settings()
    for f in fields(ServiceOptions):
        assert getattr(ServiceOptions(), f.name) == getattr(defaults, f.name), f.name
    with pytest.raises(ValueError, match="GATEWAY_JOB_TIMEOUT"):
        Settings.from_env({"GATEWAY_JOB_TIMEOUT": "soon"})


def test_log_json_writes_one_json_object_a_line(capsys):
    import json

    import structlog

    from gateway.logs import configure_logging

    try:
        configure_logging(Settings.from_env({"GATEWAY_LOG_JSON": "1"}))
        structlog.get_logger("gateway.test").info("shipment_done", shipment="S-1", 状态="ok")
        line = json.loads(capsys.readouterr().out.strip())
        assert line["event"] == "shipment_done"
        assert line["level"] == "info"
        assert (line["shipment"], line["状态"]) == ("S-1", "ok")
        assert line["timestamp"]
    finally:
        configure_logging(Settings())
    structlog.get_logger("gateway.test").info("shipment_done", shipment="S-1")
    out = capsys.readouterr().out
    assert "shipment_done" in out
    assert not out.lstrip().startswith("{")


def test_factories_type_a_document_from_its_bytes_and_build_services(make_document, new_services):
    from samples.manifests import build_xlsx
    from tests.factories import TextChecker, app_for, new_tenant, post_shipment

    data, _expected = build_xlsx()
    named_wrong = make_document(data, "packing_list.csv")
    assert named_wrong.document.media_type.endswith("spreadsheetml.sheet")
    assert named_wrong.document.size == len(data)

    checker = TextChecker()
    svc = new_services(checker=checker)
    _tenant, key = new_tenant(svc)
    response = post_shipment(app_for(svc).test_client(), key, [("m.csv", b"code\nKEY:a1\n")])
    assert response.status_code == 202, response.data[:300]
    assert svc._executor.submitted == [response.get_json()["id"]]


def test_serve_takes_web_settings_from_the_environment_and_flags_win(tmp_path, monkeypatch):
    from gateway.cli import serve as serve_module

    started: list[tuple[int, int, int]] = []

    def run_gunicorn(bind, workers, timeout, settings, threads=2, keepalive=0):
        started.append((workers, threads, keepalive))

    monkeypatch.setattr(serve_module, "run_gunicorn", run_gunicorn)
    env = {"GATEWAY_DATA_DIR": str(tmp_path), "GATEWAY_WEB_WORKERS": "3"}
    runner = CliRunner()
    assert runner.invoke(serve_module.serve, [], env=env).exit_code == 0
    assert runner.invoke(serve_module.serve, ["--threads", "5"], env=env).exit_code == 0
    assert started == [(3, 2, 0), (3, 5, 0)]
    bad = runner.invoke(serve_module.serve, [], env={**env, "GATEWAY_WEB_WORKERS": "0"})
    assert bad.exit_code == 2
    assert "GATEWAY_WEB_WORKERS=0" in bad.output


def test_a_logger_that_imports_structlog_late_logs_through_the_configuration_in_force():
    from structlog.testing import capture_logs

    from gateway.logs import get_logger

    log = get_logger("gateway.example")
    with capture_logs() as logs:
        log.warning("registry_rows_rejected", rejected=2)
    assert logs == [{"event": "registry_rows_rejected", "rejected": 2, "log_level": "warning"}]
