"""The tour's summary page (``OUT/README.md``) and the README's lesson table.

Both are written from the lessons' ``results.json``, never by hand, so neither can
drift from what the code does:

* ``write_page(out, results)``: what ``python -m lessons tour`` leaves in
  ``OUT/README.md``.  Per lesson: what it is about (from its docstring), each claim
  with ✓ / ✗ and its numbers (and the full run's, for a quick tour), the headline
  against its baseline, the figures with their captions, and the commands for the
  full run and for real data.
* ``record_full_runs(out)`` + ``readme_table(record)``: ``python -m lessons
  readme-table OUT --update README.md`` reads the full runs under ``OUT``, keeps
  their claims and headlines in ``lessons/full_runs.json`` (where a quick run finds
  the full run's numbers) and regenerates the table between the README's
  ``<!-- lessons:start -->`` and ``<!-- lessons:end -->`` markers.
"""
from __future__ import annotations

import ast
import json
import os
import pathlib
import platform
import re

from . import support

HERE = pathlib.Path(__file__).resolve().parent


# ---------------------------------------------------------------------- the lesson's own words
def docstring_parts(path: pathlib.Path) -> dict:
    """{"summary", "dataset", "about", "real_data"} read from a lesson file's docstring.

    The docstring starts with a one-line summary, then a ``dataset:`` line, then the
    "about" paragraph (two or three sentences for the summary page), then the rest.
    """
    doc = ast.get_docstring(ast.parse(pathlib.Path(path).read_text())) or ""
    paragraphs = [p.strip() for p in doc.split("\n\n")]
    summary = paragraphs[0].splitlines()[0] if paragraphs else ""
    dataset, about = "", ""
    for k, p in enumerate(paragraphs):
        if p.lower().startswith("dataset:"):
            dataset = " ".join(p.split(":", 1)[1].split())
            if k + 1 < len(paragraphs) and not paragraphs[k + 1].lower().startswith("what this lesson"):
                about = " ".join(paragraphs[k + 1].split())
            break
    real = ""
    found = re.search(r"(--data|--vectors)(?:/--download)?:\s*([^;]+)", dataset)
    if found:
        real = f"{found.group(1)} {found.group(2).strip()}"
    return {"summary": summary, "dataset": dataset, "about": about, "real_data": real}


def _lesson_file(name: str) -> pathlib.Path:
    return HERE / f"{name}.py"


def commands(r: dict) -> list[str]:
    """The commands a reader runs next: the full run, and real data where the lesson takes it."""
    name = r["lesson"]
    parts = docstring_parts(_lesson_file(name))
    lines = [f"full run: `python -m lessons run {name}`"]
    if parts["real_data"]:
        flag, what = parts["real_data"].split(" ", 1)
        line = f"real data: `python -m lessons run {name} {flag} PATH` ({what})"
        if r.get("download"):
            line += f", or `python -m lessons run {name} --download` (fetches it, verified)"
        lines.append(line)
    return lines


def main_headline(r: dict):
    marked = [h for h in r["headlines"] if h.get("main")]
    judged = [h for h in r["headlines"] if h["baseline"] is not None]
    return (marked or judged or r["headlines"] or [None])[0]


def headline_text(h: dict) -> str:
    if h is None:
        return ""
    text = f"{h['label']}: **{support.fmt_number(h['value'])}**"
    if h["baseline"] is not None:
        verdict = "beaten" if h["beats_baseline"] else "NOT beaten"
        text += f" against the baseline {support.fmt_number(h['baseline'])} ({verdict})"
    return text


# ---------------------------------------------------------------------- the tour's page
def write_page(out: pathlib.Path, results: list[dict]) -> pathlib.Path:
    """OUT/README.md: every lesson's story, claims, headline, figures and next commands."""
    quick = bool(results) and results[0]["quick"]
    claims = [c for r in results for c in r.get("claims", [])]
    tally = {s: sum(c["status"] == s for c in claims) for s in ("held", "did not hold", "full run only")}
    lines = ["# minidl lessons: the tour", "",
             f"{len(results)} lessons, {'quick' if quick else 'full'} runs on "
             f"{'the embedded, generated data' if not any(r['data'] for r in results) else 'the data given'}.  "
             f"Each lesson states its claims and checks them in the run: "
             f"**{tally['held']} held** (✓), **{tally['did not hold']} did not** (✗)"
             + (f", {tally['full run only']} need the full run (…, shown with the full run's numbers)"
                if tally["full run only"] else "") + ".", ""]
    if quick:
        lines += ["A quick run trains for seconds on small embedded data; where a number differs from the full "
                  "run's, both are shown (the full runs' numbers are in `lessons/full_runs.json` and the "
                  "README's lesson table).", ""]
    lines += ["| lesson | claims | headline |", "|---|---|---|"]
    for r in results:
        marks = "".join({"held": "✓", "did not hold": "✗", "full run only": "…"}[c["status"]] for c in r.get("claims", []))
        lines.append(f"| [{r['lesson']}](#{r['lesson']}) | {marks} | {headline_text(main_headline(r))} |")
    lines.append("")
    for r in results:
        parts = docstring_parts(_lesson_file(r["lesson"]))
        lines += [f"## {r['lesson']}", "", f"**{parts['summary']}**", ""]
        if parts["about"]:
            lines += [parts["about"], ""]
        if r.get("claims"):
            lines += ["**What it shows, checked in this run:**", ""]
            lines += [f"- {support.claim_line(c, quick=quick)}" for c in r["claims"]]
            lines.append("")
        h = main_headline(r)
        if h:
            lines += [f"**Headline.** {headline_text(h)}.", ""]
        others = [x for x in r["headlines"] if x is not h]
        if others:
            lines += ["<details><summary>all numbers of this run</summary>", ""]
            lines += [f"- {headline_text(x)}" for x in others]
            lines += ["", "</details>", ""]
        for f in r["figures"]:
            rel = os.path.relpath(f["path"], out)
            lines += [f"![{f['name']}]({rel})", "", f"*{f['caption']}*", ""]
        if r["texts"]:
            lines += ["<details><summary>what the run printed</summary>", ""]
            for t in r["texts"]:
                lines += [f"**{t['title']}**", "", "```", t["text"], "```", ""]
            lines += ["</details>", ""]
        lines += [f"_{r['seconds']} s, backend {r['backend']}, data: {r['data'] or 'embedded, generated'}._  "
                  + "  ".join(f"Next, the {c}." for c in commands(r)), ""]
    path = pathlib.Path(out) / "README.md"
    path.write_text("\n".join(lines))
    return path


# ---------------------------------------------------------------------- full runs -> README
def record_full_runs(out: pathlib.Path, machine: str | None = None, path: pathlib.Path | None = None) -> dict:
    """Collect the full runs' results under ``out`` into ``path`` (lessons/full_runs.json)."""
    lessons = {}
    for found in sorted(pathlib.Path(out).glob("[0-9][0-9]_*/results.json")):
        r = json.loads(found.read_text())
        if r["quick"] or r["data"]:
            continue                                   # only default full runs on the embedded data
        lessons[r["lesson"]] = {"seconds": r["seconds"], "claims": r.get("claims", []),
                                "headline": main_headline(r)}
    record = {"machine": machine or f"{platform.machine()}, {os.cpu_count()} cores", "lessons": lessons}
    pathlib.Path(path or support.FULL_RUNS).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return record


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_table(record: dict) -> str:
    rows = ["| lesson | what it shows | embedded data | real data | claims, full run (✓ held, ✗ did not) "
            "| headline | full run |", "|---|---|---|---|---|---|---|"]
    for name, r in sorted(record["lessons"].items()):
        parts = docstring_parts(_lesson_file(name))
        embedded = parts["dataset"].split(";")[0]
        claims = "<br>".join(support.claim_line(c, quick=False) for c in r["claims"])
        rows.append(f"| `{name}` | {_cell(parts['summary'])} | {_cell(embedded)} | {_cell(parts['real_data'] or '-')} "
                    f"| {_cell(claims)} | {_cell(headline_text(r['headline']))} | {r['seconds']:.0f} s |")
    rows += ["", f"Generated by `python -m lessons readme-table OUT --update README.md` from the full runs "
                 f"(`python -m lessons run NAME`, seed 0, NumPy) on {record['machine']}; wall time per lesson."]
    return "\n".join(rows)


def update_readme(readme: pathlib.Path, table: str):
    text = pathlib.Path(readme).read_text()
    new, n = re.subn(r"(<!-- lessons:start -->\n).*?(\n<!-- lessons:end -->)",
                     lambda m: m.group(1) + table + m.group(2), text, flags=re.S)
    if n != 1:
        raise SystemExit(f"{readme}: expected one <!-- lessons:start --> ... <!-- lessons:end --> block")
    pathlib.Path(readme).write_text(new)
