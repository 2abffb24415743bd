"""The class at a glance, from the grades CSV: per exercise how many students earned it and
the most common reasons for losing it, and the distribution of totals, as a Markdown page
and one PNG (written beside the CSV).

Built from the CSV, not from a grading run, so that after a regrade of one student
(``--update``) the overview is the whole class's. Counts come from the points columns; a
reason is counted by its rule, the words before its first ": " outside brackets ("missing
batch normalisation", "dropout rates in training mode (fraction of units zeroed)"): every
reason leads with its rule, and the place and numbers after it differ from student to
student.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from tabulate import tabulate

from .. import files
from .feedback import csv_name

COMMON = 3  # reasons listed an exercise


@dataclass
class ExerciseSummary:
    name: str
    points: int
    earned: int = 0  # students with full points on it
    reasons: Counter = field(default_factory=Counter)  # rule -> students who lost it so


@dataclass
class Overview:
    students: int
    maximum: int
    exercises: list  # ExerciseSummary, in the CSV's order
    totals: list  # each student's total, in the CSV's order


def read_rows(path) -> list[dict]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def rule(reason: str) -> str:
    """What a reason is about: its rule, the words before its first ': ' outside brackets
    (the place and the numbers follow): "missing batch normalisation" for "missing batch
    normalisation: layer 2 of 4 (Dense 512): ...", whichever layer and numbers; "std of
    each kernel as built (Radford: N(0, 0.02))" whole."""
    depth = 0
    for index, character in enumerate(reason):
        if character in "([{":
            depth += 1
        elif character in ")]}":
            depth = max(0, depth - 1)
        elif character == ":" and depth == 0 and reason[index + 1:index + 2] == " ":
            return reason[:index].strip()
    return reason.strip()


def _reasons(cell, names):
    """{exercise: reason} from a row's reasons cell ("name: reason | name: reason")."""
    text = csv_name(cell)
    if not text:
        return {}
    pattern = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    parts = re.split(rf"(?:^| \| )({pattern}): ", text)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def summarize(rows, exercises) -> Overview:
    """The overview of ``rows`` (the CSV's, as dicts) on ``exercises`` (name, points)."""
    summaries = [ExerciseSummary(e.name, e.points) for e in exercises]
    names = [e.name for e in exercises]
    for row in rows:
        reasons = _reasons(row.get("reasons", ""), names)
        for summary in summaries:
            if int(row[summary.name]) == summary.points:
                summary.earned += 1
            else:
                summary.reasons[rule(reasons.get(summary.name, "(no reason recorded)"))] += 1
    return Overview(len(rows), sum(e.points for e in exercises), summaries,
                    [int(row["total"]) for row in rows])


def markdown(overview: Overview) -> str:
    """The overview as a Markdown page: a table of exercises, then the totals."""
    table = [[s.name, s.points, s.earned, overview.students - s.earned,
              "; ".join(f"{count} student{'s' * (count != 1)}: {reason}" for reason, count
                        in s.reasons.most_common(COMMON)).replace("|", "\\|")]
             for s in overview.exercises]
    totals = Counter(overview.totals)
    spread = [[total, totals[total]] for total in sorted(totals, reverse=True)]
    ordered = sorted(overview.totals)
    median = (ordered[len(ordered) // 2] + ordered[(len(ordered) - 1) // 2]) / 2 if ordered else 0
    return "\n".join([
        "# Class overview", "",
        f"{overview.students} student(s); totals out of {overview.maximum}, median {median:g}.",
        "", "## Exercises", "",
        tabulate(table, ["exercise", "points", "earned it", "lost it",
                         "most common reasons, by rule"], tablefmt="github"),
        "", "## Totals", "",
        tabulate(spread, ["total", "students"], tablefmt="github"), ""])


def plot(overview: Overview) -> Figure:
    """Two panels: the share of students who earned each exercise, and the totals'
    histogram. A figure returned, never shown."""
    figure = Figure(figsize=(11, max(4.0, 0.32 * len(overview.exercises) + 1.5)))
    shares, spread = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    names = [s.name for s in overview.exercises][::-1]
    earned = [s.earned / max(1, overview.students) for s in overview.exercises][::-1]
    shares.barh(names, earned, color="tab:green")
    for row, summary in enumerate(overview.exercises[::-1]):
        shares.text(0.01, row, f"{summary.earned}/{overview.students}", va="center",
                    color="white" if summary.earned else "black")
    shares.set_xlim(0, 1)
    shares.set_xlabel("share of students who earned it")
    spread.hist(overview.totals, bins=range(0, overview.maximum + 2), color="tab:blue",
                align="left")
    spread.set_xlabel(f"total (out of {overview.maximum})")
    spread.set_ylabel("students")
    spread.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.suptitle(f"Class overview: {overview.students} student(s)")
    figure.tight_layout()
    return figure


def write_overview(csv_path, exercises) -> tuple[Path, Path]:
    """``<csv stem>_overview.md`` and ``_overview.png`` beside the CSV, for all its rows."""
    csv_path = Path(csv_path)
    overview = summarize(read_rows(csv_path), exercises)
    stem = csv_path.with_name(csv_path.stem + "_overview")
    page = files.write_text(stem.with_suffix(".md"), markdown(overview))
    picture = files.save_figure(plot(overview), stem.with_suffix(".png"))
    return page, picture
