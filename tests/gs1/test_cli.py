"""`gateway codes`: the line protocol and the argument form."""

import json
from typing import Any

from click.testing import CliRunner

from gateway.gs1 import check_digit
from gateway.gs1.cli import codes

GTIN = "0952123454321" + check_digit("0952123454321")


def run_jsonl(payload: bytes, *args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(codes, ["--jsonl", *args], input=payload)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout_bytes.decode("utf-8").split("\n") if line]


def test_jsonl_writes_one_object_per_line_in_order_and_keeps_gs_as_data():
    lines = [f"(01){GTIN}(21)S1", f"]C101{GTIN}10A\x1d21B", "(01)123", "ABCPB0100000AAAB11200001"]
    out = run_jsonl(("\n".join(lines) + "\n").encode())
    assert [o["valid"] for o in out] == [True, True, False, True]
    assert out[1]["ais"] == {"01": GTIN, "10": "A", "21": "B"}
    assert [o["scheme"] for o in out] == ["gs1", "gs1", "gs1", "gb34014"]
    assert out[0]["error"] is None
    assert out[2]["error"]
    assert out[2]["problems"][0]["code"] == "WRONG_LENGTH"
    assert out[2]["problems"][0]["span"] == [4, 7]


def test_jsonl_reports_bad_utf8_as_an_error_line_and_goes_on():
    out = run_jsonl(b"\xff\xfe(01)\n(01)" + GTIN.encode() + b"\n")
    assert len(out) == 2
    assert out[0]["valid"] is False
    assert out[0]["problems"][0]["code"] == "INVALID_UTF8"
    assert out[1]["valid"] is True


def test_jsonl_strict_switches_off_repairs():
    payload = f" (01){GTIN}\n".encode()
    assert run_jsonl(payload)[0]["valid"] is True
    assert run_jsonl(payload, "--strict")[0]["valid"] is False


def test_jsonl_percent_decodes_digital_link_values_and_drops_other_parameters():
    out = run_jsonl(f"https://id.gs1.org/01/{GTIN}/21/A%2FB?17=250101&linkType=x\n".encode())
    assert out[0]["ais"] == {"01": GTIN, "21": "A/B", "17": "250101"}
    assert out[0]["scheme"] == "gs1-digital-link"


def test_arguments_print_human_readable_text_and_exit_1_on_invalid():
    runner = CliRunner()
    ok = runner.invoke(codes, [f"(01){GTIN}(21)S1"])
    assert ok.exit_code == 0
    assert f"key: 01:{GTIN}/21:S1 [sgtin]" in ok.output
    bad = runner.invoke(codes, ["(01)123", "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["valid"] is False
