"""Grade a class: submissions against the solutions, each in its own child process.

The same path serves ``python -m gan_lab grade`` and ``pytest tests/grading``. The
solutions are run first, in a child process of their own, the same way as the students'
code; a solution that fails its own checks stops the grading (a broken check is caught
before any student loses points to it).
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import notebooks
from .probes import EXERCISES, compare

GRADING_SEED = 1  # the self-checks in the notebooks use seed 0: different inputs
STARTUP_SECONDS = 120  # the first child waits for TensorFlow to import in the fork server


class GradingError(RuntimeError):
    """The grading itself cannot proceed (no solutions, a solution failing its checks)."""


@dataclass
class StudentGrade:
    student: str
    points: dict = field(default_factory=dict)   # exercise -> points earned
    reasons: dict = field(default_factory=dict)  # exercise -> why points were lost

    @property
    def total(self):
        return sum(self.points.values())


def solution_exercises(solutions_dir) -> list[notebooks.ExerciseCell]:
    """The exercise cells of the solutions (name, points, source, notebook), in order."""
    paths = sorted(Path(solutions_dir).glob("*.ipynb"))
    if not paths:
        raise GradingError(f"no solution notebooks in {solutions_dir}")
    exercises = []
    for path in paths:
        for cell in notebooks.exercise_cells(notebooks.read(path), path.name):
            if cell.name not in EXERCISES:
                raise GradingError(f"{path.name}: exercise {cell.name!r} has no probe")
            exercises.append(cell)
    return exercises


def discover(paths) -> dict[str, list[Path]]:
    """Student name -> notebooks. A PATH is a notebook, a student's folder of notebooks,
    or a folder of student folders."""
    students = {}
    for path in map(Path, paths):
        if path.is_file():
            students.setdefault(path.parent.name or path.stem, []).append(path)
        elif path.is_dir():
            own = sorted(path.glob("*.ipynb"))
            if own:
                students.setdefault(path.name, []).extend(own)
            for folder in sorted(p for p in path.iterdir() if p.is_dir()):
                books = sorted(folder.glob("*.ipynb"))
                if books:
                    students.setdefault(folder.name, []).extend(books)
        else:
            raise GradingError(f"{path} does not exist")
    if not students:
        raise GradingError(f"no notebooks found in {', '.join(map(str, paths))}")
    return students


def _student_cells(exercises, books):
    """Cells to run [(name, source)] and reasons known without running anything."""
    read, failures = {}, {}
    for book in books:
        try:
            read[book.name] = notebooks.read(book)
        except Exception as error:  # not JSON, not a notebook: every exercise in it is lost
            failures[book.name] = f"{book.name} cannot be read as a notebook ({error})"[:200]
    cells, reasons = [], {}
    for exercise in exercises:
        ordered = sorted(read.items(), key=lambda item: item[0] != exercise.notebook)
        source = None
        for name, notebook in ordered:
            found = [c for c in notebooks.exercise_cells(notebook, name) if c.name == exercise.name]
            source = found[0].source if found else notebooks.find_definition(notebook, exercise.name)
            if source is not None:
                break
        if source is None:
            reasons[exercise.name] = failures.get(exercise.notebook) or (
                f"no cell defines `{exercise.name}` (missing notebook {exercise.notebook}?)")
        elif notebooks.uses_gan_lab(source):
            reasons[exercise.name] = "uses gan_lab, which holds the answers: write it yourself"
        else:
            cells.append((exercise.name, source))
    return cells, reasons


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["gan_lab.grading.worker"])
    return context


def run_cells(cells, seed, timeout, context=None) -> dict:
    """Run exercise cells in child processes: name -> {"observations": ...} or {"error": ...}.

    A cell that loops past ``timeout`` seconds, or ends its process, loses its exercise;
    the cells after it run in a fresh child.
    """
    from . import worker

    context = context or _context()
    results, remaining = {}, list(cells)
    while remaining:
        handle, progress = tempfile.mkstemp(suffix=".jsonl", prefix="gan_lab_grading_")
        os.close(handle)
        process = context.Process(target=worker.run_job, args=(remaining, seed, progress),
                                  daemon=True)
        process.start()
        current, since, limit, offset = None, time.monotonic(), STARTUP_SECONDS, 0
        try:
            while True:
                process.join(0.02)
                with open(progress) as stream:
                    stream.seek(offset)
                    text = stream.read()
                complete = text[: text.rfind("\n") + 1]
                offset += len(complete)
                for line in complete.splitlines():
                    entry = json.loads(line)
                    if "start" in entry:
                        current, since, limit = entry["start"], time.monotonic(), timeout
                    elif entry.get("name") == current and current not in results:
                        results[current] = {k: v for k, v in entry.items() if k != "name"}
                        current = None
                if not process.is_alive() and not text[len(complete):]:
                    if current is not None and current not in results:
                        results[current] = {"error": "the code ended the grading process "
                                            f"(exit code {process.exitcode}: os._exit or a crash)"}
                    break
                if time.monotonic() - since > limit:
                    process.kill()
                    process.join()
                    what = current or remaining[0][0]
                    results[what] = {"error": f"still running after {limit:.0f} s "
                                     "(an endless loop?); stopped"}
                    break
        finally:
            if process.is_alive():
                process.kill()
            os.remove(progress)
        remaining = [cell for cell in remaining if cell[0] not in results]
    return results


def reference_observations(solutions_dir="solutions", seed=GRADING_SEED, timeout=60.0,
                           context=None):
    """(exercises, observations of the solutions) or GradingError if a solution fails."""
    exercises = solution_exercises(solutions_dir)
    results = run_cells([(e.name, e.source) for e in exercises], seed, timeout, context)
    broken = {name: r["error"] for name, r in results.items() if "error" in r}
    if broken:
        raise GradingError("the solutions fail their own checks: "
                           + "; ".join(f"{k}: {v}" for k, v in broken.items()))
    return exercises, {name: r["observations"] for name, r in results.items()}


def grade(paths, solutions_dir="solutions", seed=GRADING_SEED, timeout=20.0, workers=None):
    """Grade every student found in ``paths``; returns (exercises, [StudentGrade, ...])."""
    context = _context()
    exercises, reference = reference_observations(solutions_dir, seed, context=context)
    students = discover(paths)

    def grade_one(item):
        student, books = item
        cells, reasons = _student_cells(exercises, books)
        results = run_cells(cells, seed, timeout, context) if cells else {}
        result = StudentGrade(student)
        for exercise in exercises:
            outcome = results.get(exercise.name, {})
            if exercise.name in reasons:
                reason = reasons[exercise.name]
            elif "error" in outcome:
                reason = outcome["error"]
            else:
                _, reason = compare(exercise.name, outcome.get("observations", {}),
                                         reference[exercise.name])
            result.points[exercise.name] = 0 if reason else exercise.points
            if reason:
                result.reasons[exercise.name] = reason
        return result

    workers = workers or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        return exercises, list(pool.map(grade_one, sorted(students.items())))


def write_csv(exercises, grades, path) -> Path:
    """One row a student: points per exercise, total, maximum, and every lost point's reason."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [e.name for e in exercises]
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["student", *names, "total", "max", "reasons"])
        maximum = sum(e.points for e in exercises)
        for g in grades:
            reasons = " | ".join(f"{name}: {g.reasons[name]}" for name in names if name in g.reasons)
            writer.writerow([g.student, *(g.points[n] for n in names), g.total, maximum, reasons])
    return path
