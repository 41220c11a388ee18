"""`gateway decode`: one JSON line per file, in argument order, errors as data."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

from gateway.cli.decode import decode
from samples.labels import draw_label, random_codes


def test_decode_prints_codes_in_order_and_errors_as_data(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    codes = random_codes(rng)
    image_path = tmp_path / "label.png"
    cv2.imwrite(str(image_path), draw_label(codes, rng, 3))
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not an image")
    out_dir = tmp_path / "annotated"
    result = CliRunner().invoke(
        decode, [str(bogus), str(image_path), "--jobs", "1", "--annotate", str(out_dir)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["path"] for line in lines] == [str(bogus), str(image_path)]
    assert lines[0]["codes"] == []
    assert "UnsupportedDocument" in lines[0]["error"]
    assert {code["text"] for code in lines[1]["codes"]} == {code.text for code, _ in codes}
    assert all(len(code["quad"]) == 4 for code in lines[1]["codes"])
    assert (out_dir / "label.annotated.png").exists()


def test_decode_reads_a_pdf_page(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(12)
    codes = random_codes(rng)
    label = draw_label(codes, rng, 4)
    pdf_path = tmp_path / "scan.pdf"
    Image.fromarray(label).save(pdf_path, format="PDF", resolution=150)
    result = CliRunner().invoke(decode, [str(pdf_path), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(text) for text in result.output.splitlines()]
    assert {code["text"] for code in line["codes"]} == {code.text for code, _ in codes}


def test_decode_with_two_jobs_keeps_argument_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(31)
    paths, expected = [], []
    for index in range(3):
        codes = random_codes(rng)
        path = tmp_path / f"label{index}.png"
        cv2.imwrite(str(path), draw_label(codes, rng, 3))
        paths.append(str(path))
        expected.append({code.text for code, _ in codes})
    result = CliRunner().invoke(decode, [*paths, "--jobs", "2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["path"] for line in lines] == paths
    assert [{code["text"] for code in line["codes"]} for line in lines] == expected


def test_decode_gives_bracketed_gs1_and_a_retake_case(tmp_path: Path) -> None:
    from samples.labels import LabelCode, barcode_free

    unit = LabelCode("0106950123456786" + "10LOT1\x1d21SN9", True, "gs1-128")
    label_path, page_path = tmp_path / "label.png", tmp_path / "page.png"
    hri = "(01)06950123456786(10)LOT1(21)SN9"
    cv2.imwrite(str(label_path), draw_label([(unit, hri)], np.random.default_rng(1), 3))
    cv2.imwrite(str(page_path), barcode_free(np.random.default_rng(1)))
    result = CliRunner().invoke(
        decode, [str(label_path), str(page_path), "--jobs", "1", "--budget", "0"]
    )
    assert result.exit_code == 0, result.output
    label, page = (json.loads(line) for line in result.output.splitlines())
    (code,) = label["codes"]
    assert code["bracketed"] == hri
    assert "retake" not in label
    assert page["codes"] == []
    assert page["retake"] == [{"code": "no_barcode"}]
