"""The README's example stays true: its command is run and its summary compared with the report.

The README shows the summary of the HTML report `gateway check` writes for the sample shipment
`problems_to_germany`, with the commands that make it. This test takes the commands from the
README (the `gateway samples DIR` and `gateway check ...` after "An example:"), runs them as a
user would, reads the summary out of the HTML report written, and compares it with the fenced
block that follows: the verdict, the counts line, the ruleset and where the answers came from,
and every numbered blocking finding with its message, place and fix.

The shipment line of the block (id, reference, destination, mode, check time) states the
sample's facts and is not compared: the command gives none of them.
"""

from __future__ import annotations

import glob
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
# the counts line's labels, as the README writes them, and the report's count names
COUNT_LABELS = {
    "Battery units": "units",
    "Verified": "verified",
    "Not registered": "not_found",
    "Unverified": "unverified",
    "Blocking": "block",
    "Warnings": "warn",
    "Info": "info",
}


def _answers(text: str) -> str:
    """ "registry (assumed-v1)" and "registry (Platform contract assumed-v1)" alike."""
    match = re.fullmatch(
        r"\s*(.+?) \((?:platform contract )?(\S+?)\s*\)\s*", text, flags=re.IGNORECASE
    )
    return f"{match.group(1)} {match.group(2)}" if match else text.strip()


@dataclass
class Summary:
    """What the summary of a report says."""

    verdict: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    ruleset: str = ""
    answers: str = ""
    blocking: list[tuple[str, str, str, str]] = field(default_factory=list)  # code, msg, at, fix


def readme_example() -> tuple[list[str], str]:
    """The example's commands (with DIR) and its fenced summary block."""
    text = README.read_text(encoding="utf-8")
    start = text.index("An example:")
    fence = text.index("```", start)
    prose = text[start:fence]
    body_start = text.index("\n", fence) + 1
    block = text[body_start : text.index("```", body_start)]
    commands = [c for c in re.findall(r"`(gateway [^`]+)`", prose)]
    return commands, block


def parse_readme_block(block: str) -> Summary:
    """The summary as the README prints it."""
    summary = Summary()
    lines = block.splitlines()
    banner = next(line for line in lines if line.strip() and not line.startswith("="))
    summary.verdict = re.split(r"\s{2,}", banner.strip())[0]
    for line in lines:
        if line.startswith("Checked "):
            match = re.search(r"ruleset (\S+) · answers from (.+)$", line)
            assert match, line
            summary.ruleset, summary.answers = match.group(1), _answers(match.group(2))
        if line.startswith("Battery units "):
            for part in line.split("|"):
                label, _, number = part.strip().rpartition(" ")
                summary.counts[COUNT_LABELS[label]] = int(number)
    items = re.findall(
        r"^\s*\d+\. ([A-Z0-9_]+): (.*)\n\s+at (.*?) — fix: (.*)$", block, flags=re.MULTILINE
    )
    summary.blocking = [tuple(part.strip() for part in item) for item in items]  # type: ignore[misc]
    return summary


@dataclass
class Node:
    """An element of the HTML report: tag, attributes, children (nodes and text)."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The element's text, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def all(self, tag: str, cls: str = "") -> list[Node]:
        """Descendants with this tag (and class), in document order."""
        out: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and (not cls or cls in child.attrs.get("class", "").split()):
                    out.append(child)
                out.extend(child.all(tag, cls))
        return out


class _TreeBuilder(HTMLParser):
    VOID = frozenset({"br", "meta", "link", "img", "input", "hr", "col"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_report(html: str) -> Summary:
    """The summary of the English section of the HTML report."""
    builder = _TreeBuilder()
    builder.feed(html)
    (english,) = [n for n in builder.root.all("section") if n.attrs.get("id") == "report-en"]
    summary = Summary(verdict=english.all("span", "verdict-word")[0].text())
    facts = {
        row.all("th")[0].text(): row.all("td")[0].text()
        for table in english.all("table", "facts")
        for row in table.all("tr")
    }
    summary.ruleset = facts.get("Ruleset", "")
    summary.answers = _answers(facts.get("Registration answers", ""))
    for cell in english.all("td"):
        for cls in cell.attrs.get("class", "").split():
            if cls.startswith("count-"):
                summary.counts[cls.removeprefix("count-")] = int(cell.text())
    fixes: dict[tuple[str, str], str] = {}
    for table in english.all("table", "findings"):
        headers = [th.text() for th in table.all("th")]
        for row in table.all("tr", "sev-block"):
            cells = [c.text() for c in row.children if isinstance(c, Node) and c.tag == "td"]
            column = dict(zip(headers, cells, strict=False))
            fixes[(column["Finding"], column["What is wrong"])] = column["How to fix"]
    for item in english.all("ol", "blocking")[0].all("li") if english.all("ol", "blocking") else []:
        code = item.all("code")[0].text()
        message = item.all("bdi")[0].text()
        where = item.all("span", "where")[0].text().removeprefix("(").removesuffix(")")
        summary.blocking.append((code, message, where, fixes.get((code, message), "")))
    return summary


def run_example(tmp_path: Path) -> Summary:
    commands, _ = readme_example()
    assert [c.split()[1] for c in commands][:2] == ["samples", "check"], commands
    folder = tmp_path / "DIR"
    for command in commands[:2]:
        words = shlex.split(command.replace("DIR", str(folder)))
        args: list[str] = []
        for word in words[1:]:
            args.extend(sorted(glob.glob(word)) if "*" in word else [word])
        done = subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            cwd=tmp_path,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert done.returncode in (0, 1, 2), done.stderr.decode()
    out = re.search(r"--out (\S+)", commands[1])
    assert out, commands[1]
    html = (tmp_path / out.group(1)).read_text(encoding="utf-8")
    return parse_report(html)


def test_the_readme_block_is_read_whole():
    """The README's block parses: a verdict, seven counts and one item per blocking count."""
    _, block = readme_example()
    shown = parse_readme_block(block)
    assert shown.verdict.startswith(("BLOCK", "HOLD", "CLEAR"))
    assert set(shown.counts) == set(COUNT_LABELS.values())
    assert len(shown.blocking) == shown.counts["block"]


@pytest.mark.slow
def test_the_readme_example_prints_the_summary_the_readme_shows(tmp_path):
    _, block = readme_example()
    shown = parse_readme_block(block)
    printed = run_example(tmp_path)
    printed.counts = {k: printed.counts.get(k, -1) for k in shown.counts}
    assert printed == shown, _difference(printed, shown)


def _difference(printed: Summary, shown: Summary) -> str:
    lines = ["the report differs from the README's example:"]
    for name in ("verdict", "counts", "ruleset", "answers"):
        if getattr(printed, name) != getattr(shown, name):
            lines.append(f"  {name}: report {getattr(printed, name)} README {getattr(shown, name)}")
    lines.extend(
        f"  only in the report: {item}" for item in printed.blocking if item not in shown.blocking
    )
    lines.extend(
        f"  only in the README: {item}" for item in shown.blocking if item not in printed.blocking
    )
    return "\n".join(lines)
