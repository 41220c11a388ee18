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


def test_as_reads_bare_keys_and_without_it_digits_stay_an_element_string():
    ean = "590123412345" + check_digit("590123412345")
    assert run_jsonl(f"{ean}\n".encode())[0]["problems"][0]["code"] == "UNKNOWN_AI"
    out = run_jsonl(f"{ean}\n{GTIN}\n".encode(), "--as", "gtin")
    assert [o["ais"] for o in out] == [{"01": f"0{ean}"}, {"01": GTIN}]
    assert [o["key_kind"] for o in out] == ["gtin", "gtin"]
    sscc = "09521234000000001" + check_digit("09521234000000001")
    result = CliRunner().invoke(codes, ["--as", "sscc", "--json", sscc])
    assert result.exit_code == 0
    assert json.loads(result.output)["key"] == f"00:{sscc}"
    assert CliRunner().invoke(codes, ["--as", "upc", "1"]).exit_code == 2


TEXTS = [
    f"(01){GTIN}(21)S1",
    f"(01){GTIN}(10)\u6279\u53f7",  # non-ASCII: written as is, not escaped
    '(99)A"B\\C',  # quote and backslash in the message
    "(99)A\x01B\x7f",  # control characters
    f"]d201{GTIN}21A\x1d10B",
    f"https://id.gs1.org/01/{GTIN}/21/A%2FB?17=250101&x=1",
    "ABCPB0100000AAAB11200001",
    " \u3000",
    "",
]


def test_json_text_is_exactly_what_json_dumps_writes():
    from gateway.gs1 import decode
    from gateway.gs1.cli import to_json, to_json_text

    for text in TEXTS:
        for strict in (False, True):
            code = decode(text, strict=strict)
            assert to_json_text(code) == json.dumps(to_json(code), ensure_ascii=False)


def test_jsonl_answers_repeats_and_a_last_line_without_newline():
    payload = ("\n".join([*TEXTS[:5], TEXTS[0], TEXTS[2]]) + "\n" + TEXTS[5]).encode()
    out = run_jsonl(payload)
    assert len(out) == 8
    assert out[5] == out[0]
    assert out[6] == out[2]
    assert out[7]["scheme"] == "gs1-digital-link"


def test_jsonl_answers_each_line_as_it_arrives_through_a_pipe():
    # a caller that writes one line and waits must get its answer before closing stdin
    import os
    import select
    import subprocess
    import sys

    gateway = os.path.join(os.path.dirname(sys.executable), "gateway")
    with subprocess.Popen(
        [gateway, "codes", "--jsonl"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        for text in (f"(01){GTIN}", "(01)123"):
            proc.stdin.write(f"{text}\n".encode())
            proc.stdin.flush()
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready, "no answer before stdin was closed"
            answer = json.loads(proc.stdout.readline())
            assert answer["valid"] is (text == f"(01){GTIN}")
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
