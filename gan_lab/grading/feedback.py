"""Feedback to hand back: one self-contained HTML file a student, and an index for the
instructor.

A report holds what the student's row holds, whole: each lab and exercise with the points
earned and possible, the full reason for every lost point, what the check cell in the
student's notebook would have said (the self-check's public inputs, probed in the same
sandbox run), the cell that was graded (the student's own code, shown as text) and the
notebook it came from. It holds nothing the
grader compared against (no reference observation, no graded input, no seed): what a
reason says of the expected values is all a student learns of them.

Everything a student wrote (names, code, file names, and the reasons, which quote their
errors) is escaped with ``html.escape``; the page has no script, loads nothing (a
Content-Security-Policy says so to the browser too) and reads as plain text.
"""

from __future__ import annotations

import hashlib
import re
from html import escape
from pathlib import Path
from urllib.parse import quote

from .. import files

# The browser runs nothing and fetches nothing, whatever slipped into the page.
_HEAD = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }}
pre {{ background: #f4f4f4; padding: 0.6em; overflow-x: auto; white-space: pre-wrap; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }}
.lost {{ color: #a00; }}
.full {{ color: #070; }}
</style>
</head>
<body>
"""
_TAIL = "</body>\n</html>\n"


def report_name(student: str) -> str:
    """The file a student's report is written to: the name with anything but letters,
    digits, '.', '_' and '-' replaced by '_' (and a short hash of the name when that changed
    it, so two names never share a file), e.g. "alice.html"."""
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", student)[:80].lstrip(".") or "_"
    if slug != student or slug.lower() == "index":
        slug += "-" + hashlib.sha256(student.encode("utf-8", "replace")).hexdigest()[:8]
    return slug + ".html"


def _labs(exercises):
    """[(notebook, [exercises])] in the solutions' order."""
    labs = {}
    for exercise in exercises:
        labs.setdefault(exercise.notebook, []).append(exercise)
    return list(labs.items())


def _lab_title(notebook):
    return escape(Path(notebook).stem)


def student_report(exercises, grade, maximum=None) -> str:
    """The HTML report of one student (``grade``: a StudentGrade) on ``exercises``."""
    maximum = sum(e.points for e in exercises) if maximum is None else maximum
    name = escape(grade.student)
    parts = [_HEAD.format(title=f"Feedback: {name}"),
             f"<h1>Feedback for {name}</h1>\n",
             f"<p>Total: <strong>{grade.total} / {maximum}</strong> points. "
             f"Graded {escape(grade.graded_at or 'at an unknown time')} (UTC).</p>\n",
             "<p>Each exercise below shows the points earned, the reason for every point "
             "lost, and the cell that was graded, as it ran (self-check lines removed).</p>\n"]
    for notebook, lab in _labs(exercises):
        earned = sum(grade.points.get(e.name, 0) for e in lab)
        parts.append(f"<h2>Lab {_lab_title(notebook)}: {earned} / "
                     f"{sum(e.points for e in lab)}</h2>\n")
        for exercise in lab:
            parts.append(_exercise_section(exercise, grade))
    parts.append(_TAIL)
    return "".join(parts)


def _exercise_section(exercise, grade):
    points = grade.points.get(exercise.name, 0)
    status = "full" if points == exercise.points else "lost"
    name = escape(exercise.name)
    lines = [f'<h3 class="{status}">{name}: {points} / {exercise.points}</h3>\n']
    reason = grade.reasons.get(exercise.name)
    if reason:
        lines.append(f"<p>Why: {escape(reason)}</p>\n")
    said = grade.self_checks.get(exercise.name)
    if said:
        lines.append("<p>The check cell in your notebook (other inputs, the same rules) "
                     f"would have said: <code>{escape(said)}</code></p>\n")
    if exercise.name in grade.in_own_process:
        lines.append("<p>This network was measured in the process your cell ran in: it "
                     "needs your own code to load (a subclassed model, a Lambda or a layer "
                     "class of your own).</p>\n")
    source = grade.cells.get(exercise.name)
    if source is None:
        lines.append("<p>No cell was graded for this exercise.</p>\n")
    else:
        origin = grade.origins.get(exercise.name, "")
        lines.append(f"<p>The cell graded, from <code>{escape(str(origin))}</code>:</p>\n"
                     f"<pre>{escape(source)}</pre>\n")
    return "".join(lines)


def write_reports(grading, folder) -> list[Path]:
    """One report a student of ``grading`` in ``folder`` (made if missing), each written
    whole or not at all; returns their paths."""
    folder = Path(folder)
    maximum = sum(e.points for e in grading.exercises)
    return [files.write_text(folder / report_name(g.student),
                             student_report(grading.exercises, g, maximum))
            for g in grading.grades]


def index_page(rows, regraded=()) -> str:
    """The instructor's index: a row a student (``rows``: the CSV's rows as dicts, student
    names as the grader wrote them), linking each report; ``regraded``: the students
    graded again in this run, named at the top."""
    parts = [_HEAD.format(title="Feedback reports"), "<h1>Feedback reports</h1>\n"]
    if regraded:
        parts.append("<p>Regraded in the last run: "
                     + ", ".join(escape(name) for name in regraded) + ".</p>\n")
    parts.append("<table>\n<tr><th>student</th><th>total</th><th>max</th>"
                 "<th>graded at (UTC)</th><th>how</th></tr>\n")
    for row in rows:
        student = csv_name(row["student"])
        parts.append(f'<tr><td><a href="{escape(quote(report_name(student)))}">'
                     f"{escape(student)}</a></td><td>{escape(row['total'])}</td>"
                     f"<td>{escape(row['max'])}</td>"
                     f"<td>{escape(row.get('graded at', ''))}</td>"
                     f"<td>{escape(row.get('graded', ''))}</td></tr>\n")
    parts.append("</table>\n" + _TAIL)
    return "".join(parts)


def csv_name(cell: str) -> str:
    """A student's name (or reason) as given, from its CSV cell (``grader._cell`` put a '
    before a text that would read as a formula, or starts with ')."""
    return cell[1:] if cell.startswith("'") else cell


def write_index(rows, folder, regraded=()) -> Path:
    return files.write_text(Path(folder) / "index.html", index_page(rows, regraded))
