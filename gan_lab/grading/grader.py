"""Grade a class: each student's exercise cells run in a sandbox of their own, their raw
observations judged here against the solutions' on the same inputs.

The same path serves ``python -m gan_lab grade`` and ``pytest tests/grading``. Each grading
run draws its own seed (never the self-checks' 0); the solutions run first, in a sandbox like
a student's, on that seed's inputs, and a solution that fails stops the grading (a broken
check is caught before any student loses points to it). Whatever a student's code does
becomes, at worst, zeros with a reason on that student's row; the CSV is written once, after
everyone, by the grader.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import files
from . import inputs, notebooks
from .compare import compare
from .sandbox import (Limits, Session, StudentProcessError, UnreadableReply, cgroup_kinds,
                      check_available, remove_stale)

NO_SANDBOX_WARNING = ("NOT SANDBOXED (--no-sandbox): students' code ran as you, able to read "
                      "the solutions and other students' work, write anywhere you can, and "
                      "fake its results; grades from this run can be cheated")


# The reason of a failed exercise whose error came back without words (a blank message).
NO_REASON = "the exercise failed and its error says nothing (a blank message)"


class GradingError(RuntimeError):
    """The grading itself cannot proceed (no solutions, a solution failing its checks)."""


@dataclass
class StudentGrade:
    student: str
    points: dict = field(default_factory=dict)   # exercise -> points earned
    reasons: dict = field(default_factory=dict)  # exercise -> why points were lost
    sources: list = field(default_factory=list)  # the notebooks graded cells came from
    cells: dict = field(default_factory=dict)    # exercise -> the cell graded, as it ran
    origins: dict = field(default_factory=dict)  # exercise -> its notebook (as in sources)
    graded_at: str = ""  # when, in UTC (ISO 8601, to the second)
    in_own_process: list = field(default_factory=list)  # networks measured where the cell ran
    self_checks: dict = field(default_factory=dict)  # exercise -> what its check cell says

    @property
    def total(self):
        return sum(self.points.values())


@dataclass
class Grading:
    """A grading run: the exercises, a grade a student, the seed of the inputs, and
    whether students' code ran in a sandbox."""

    exercises: list
    grades: list
    seed: int
    sandboxed: bool
    cgroups: tuple = ()  # the controllers each student had a cgroup of, e.g. ("pids", "cpu")

    @property
    def note(self):
        how = "sandboxed (bwrap)" if self.sandboxed else NO_SANDBOX_WARNING
        caps = (f"cgroups: {', '.join(self.cgroups)}" if self.cgroups else
                "no cgroups: per-process limits only, CPU unshared")
        return f"{how}; inputs seed {self.seed}; {caps}"


def solution_exercises(solutions_dir, labs=None) -> list[notebooks.ExerciseCell]:
    """The exercise cells of the solutions (name, points, source, notebook), in order; with
    ``labs`` (e.g. ["01"] or ["01_vanilla_gan"]) only those of the notebooks whose names
    start so. Raises GradingError naming the folder, or the labs there are."""
    paths = sorted(Path(solutions_dir).glob("*.ipynb"))
    if not paths:
        raise GradingError(f"no solution notebooks in {Path(solutions_dir).resolve()}: run "
                           "from the project's folder, or pass --solutions DIR")
    if labs:
        unknown = [lab for lab in labs if not any(p.name.startswith(lab) for p in paths)]
        if unknown:
            raise GradingError(f"no lab {', '.join(unknown)} in {solutions_dir}; the labs: "
                               + ", ".join(p.stem for p in paths))
        paths = [p for p in paths if any(p.name.startswith(lab) for lab in labs)]
    exercises = []
    for path in paths:
        for cell in notebooks.exercise_cells(notebooks.read(path), path.name):
            if cell.name not in inputs.MAKERS:
                raise GradingError(f"{path.name}: exercise {cell.name!r} has no probe")
            exercises.append(cell)
    return exercises


# --- finding the submissions --------------------------------------------------------------


@dataclass
class Submission:
    books: list = field(default_factory=list)  # notebook paths
    problem: str = ""  # why nothing can be graded (an empty folder, a link)


MAX_DEPTH = 3  # notebooks are looked for this many folders down a student's folder


# Folders tools make (not students): skipped in a class folder. Any other folder is a
# student, whatever its name (``.carol``, ``__bob``), and gets a row.
TOOL_STATE = frozenset({".ipynb_checkpoints", "__pycache__", "__MACOSX", ".git", ".svn",
                        ".hg", ".DS_Store", ".Trash", ".Trashes", ".vscode", ".idea",
                        ".virtual_documents", ".jupyter", ".local", ".cache", ".config"})


def _visible(entry):
    """Inside a student's folder: not hidden (checkpoints, caches, ``._`` copies)."""
    return not entry.name.startswith((".", "__"))


def _a_submission(entry):
    """In a class folder: anything but tool state and macOS's ``._`` resource files."""
    return entry.name not in TOOL_STATE and not entry.name.startswith("._")


def _notebooks_below(folder, depth=0):
    """Notebooks in ``folder`` and its visible subfolders (links are not followed; a linked
    notebook is listed, and refused when read)."""
    found = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        if not _visible(entry):
            continue
        if entry.name.endswith(".ipynb") and not entry.is_dir(follow_symlinks=False):
            found.append(Path(entry.path))
        elif entry.is_dir(follow_symlinks=False) and depth < MAX_DEPTH:
            found.extend(_notebooks_below(entry.path, depth + 1))
    return found


def lab_names(solutions_dir) -> tuple[str, ...]:
    """The labs' notebook names ("01_vanilla_gan.ipynb", ...): those of the solutions."""
    return tuple(sorted(p.name for p in Path(solutions_dir).glob("*.ipynb")))


def _a_labs_notebook(name, labs):
    """A notebook named like one of ``labs``: its name, or a copy's ("-Copy1", " (1)")."""
    return any(Path(name).stem.startswith(Path(lab).stem) for lab in labs)


def discover(paths, labs) -> dict[str, Submission]:
    """Student name -> Submission; every submission gets a row, under a name of its own.

    A PATH is a notebook (a student named after the file), a student's folder, or a class
    folder. A folder with no subfolders whose loose notebooks include one named like a lab
    (``labs``: "01_vanilla_gan.ipynb", ...; copies such as "01_vanilla_gan-Copy1.ipynb"
    count) is one student's; otherwise each subfolder is a student (notebooks found up to
    three folders down, hidden ones skipped; an empty folder gets a row with 0) and each
    loose notebook a student named after its file. Only tools' folders (``TOOL_STATE``:
    .ipynb_checkpoints, __pycache__, .git, ...) are skipped, so ``.carol`` and ``__bob`` get
    rows; links are not followed. Where two entries would take one name (``dup/`` and
    ``dup.ipynb``), each is named with its entry: "dup (dup/)", "dup (dup.ipynb)".
    """
    claims = []  # (name, entry label, Submission)
    for path in map(Path, paths):
        if path.is_symlink():
            claims.append((path.stem, str(path), Submission(
                problem=f"{path.name} is a link: not followed")))
        elif path.is_file():
            claims.append((path.stem, str(path), Submission([path])))
        elif path.is_dir():
            entries = [e for e in sorted(os.scandir(path), key=lambda e: e.name)
                       if _a_submission(e)]
            folders = [e for e in entries if e.is_dir(follow_symlinks=False)]
            loose = [e for e in entries if e.name.endswith(".ipynb")
                     and not e.is_dir(follow_symlinks=False)]
            if not folders and any(_a_labs_notebook(e.name, labs) for e in loose):
                claims.append((path.resolve().name, f"{path}/",
                               Submission([Path(e.path) for e in loose])))
                continue
            for entry in entries:
                name = entry.name
                if entry.is_symlink():
                    claims.append((name, name, Submission(
                        problem=f"{name} is a link: not followed")))
                elif entry in folders:
                    books = _notebooks_below(entry.path)
                    claims.append((name, f"{name}/", Submission(
                        books, "" if books else "no notebooks found")))
                elif entry in loose:
                    claims.append((Path(name).stem, name, Submission([Path(entry.path)])))
        else:
            raise GradingError(f"{path} does not exist")
    if not claims:
        raise GradingError(f"no submissions found in {', '.join(map(str, paths))}")
    wanted = [name or "(unnamed)" for name, _, _ in claims]
    claimed = Counter(wanted)
    students: dict[str, Submission] = {}
    for name, (_, label, submission) in zip(wanted, claims):
        unique = name if claimed[name] == 1 else f"{name} ({label})"
        number = 2
        while unique in students or (unique != name and unique in claimed):
            unique, number = f"{name} ({label}) ~{number}", number + 1
        students[unique] = submission
    return students


def _code(source):
    """A cell's code without comments, blank lines and indentation differences."""
    lines = (line.split("#", 1)[0].strip() for line in str(source).splitlines())
    return "\n".join(line for line in lines if line)


def _relative(paths, books):
    """``paths`` relative to the folder all of a student's ``books`` lie in."""
    if not paths:
        return []
    root = Path(os.path.commonpath([str(Path(b).parent) for b in books]))
    return [str(Path(p).relative_to(root)) for p in paths]


def _student_cells(exercises, books, deadline=None):
    """Cells to run [(name, source)], reasons known without running anything, and the
    notebook each exercise's cell was taken from {name: path}.

    For each exercise: a cell that differs from the lab's stub before one left as released
    (the work done in a copy, "01_vanilla_gan-Copy1.ipynb" or final/, beside the untouched
    lab); among those, its own notebook (by file name) first, then the others in path order;
    within a notebook the last cell that defines it (as when run top to bottom). Self-check lines
    in an exercise cell are dropped. Notebooks beyond ``notebooks.CODE_CELLS`` code cells or
    ``notebooks.CODE_BYTES`` of code (all of the student's together) are not read, nor
    what is left at ``deadline`` (a ``time.monotonic()``); outputs are never read."""
    read, failures, cells_total, bytes_total = {}, {}, 0, 0
    for book in books:  # by path: draft/ and final/ may hold notebooks of one name
        if str(book) in read or book.name in failures:
            continue
        try:
            notebook = notebooks.read_submission(book, deadline)
        except ValueError as error:
            failures[book.name] = f"{book.name} cannot be read as a notebook ({error})"
            continue
        count, size = notebooks.code_size(notebook)
        cells_total, bytes_total = cells_total + count, bytes_total + size
        if cells_total > notebooks.CODE_CELLS or bytes_total > notebooks.CODE_BYTES:
            failures[book.name] = (
                f"{book.name} not read: the notebooks hold more than "
                f"{notebooks.CODE_CELLS} code cells or {notebooks.CODE_BYTES >> 10} KiB of "
                f"code together ({cells_total} cells, {bytes_total >> 10} KiB so far; a lab "
                "has about 20)")
            continue
        read[str(book)] = notebook
    names = [e.name for e in exercises]
    found = [(Path(path), notebooks.definitions(notebook, names))
             for path, notebook in read.items()]
    cells, reasons, origins = [], {}, {}
    for exercise in exercises:
        stub = _code(notebooks.strip_solution(exercise.source, exercise.name))
        candidates = [(_code(defined[exercise.name]) == stub, book.name != exercise.notebook,
                       defined[exercise.name], book) for book, defined in found
                      if exercise.name in defined]
        if not candidates:
            reasons[exercise.name] = failures.get(exercise.notebook) or (
                f"no cell defines `{exercise.name}` (missing notebook {exercise.notebook}?)"
                + "".join(f"; {failure}" for failure in failures.values()))
            continue
        # answered first (a lab left untouched beside the copy the work went into), then
        # the exercise's own notebook, then path order (min keeps the first of equals)
        _, _, source, origins[exercise.name] = min(candidates, key=lambda c: c[:2])
        source = notebooks.without_self_checks(source)
        if notebooks.uses_gan_lab(source):
            reasons[exercise.name] = "uses gan_lab, which holds the answers: write it yourself"
        else:
            cells.append((exercise.name, source))
    return cells, reasons, origins


# --- running ---------------------------------------------------------------------------------


def run_cells(cells, seed, limits: Limits, sandboxed=True, hidden=(), made=None,
              started=None, self_check=False) -> dict:
    """Run exercise cells in one student's sandbox: name -> {"observations"} or {"error"}
    (with ``self_check``, also ``"self_check"``: the probe on the self-check inputs, for
    the reports).

    A cell that ends or stalls the sandbox loses its exercise; the cells after it run in a
    fresh sandbox, within the student's time limit, counted from ``started`` (a
    ``time.monotonic()``; default now)."""
    made = made or {}
    deadline = (started or time.monotonic()) + limits.student_seconds
    results, remaining = {}, list(cells)
    while remaining:
        try:
            session = Session(limits, sandboxed, hidden, deadline)
        except StudentProcessError as error:
            for name, _ in remaining:
                results[name] = {"error": str(error)}
            break
        with session:
            for name, source in list(remaining):
                remaining.remove((name, source))
                try:
                    results[name] = session.run(
                        name, source, made.get(name) or inputs.make(name, seed),
                        inputs.make(name, inputs.SELF_CHECK_SEED) if self_check else None)
                except UnreadableReply as error:  # framed whole: the sandbox goes on
                    results[name] = {"error": str(error)}
                except StudentProcessError as error:  # a fresh sandbox for the rest
                    results[name] = {"error": str(error)}
                    break
        if time.monotonic() >= deadline:
            for name, _ in remaining:
                results[name] = {"error": "not run: the student's time limit "
                                          f"({limits.student_seconds:.0f} s) was reached"}
            break
    return results


def reference_observations(solutions_dir="solutions", seed=inputs.SELF_CHECK_SEED,
                           limits=None, sandboxed=True, hidden=(), labs=None):
    """(exercises, observations of the solutions on ``seed``'s inputs), or GradingError.
    ``labs``: only the exercises of these labs (``solution_exercises``)."""
    exercises = solution_exercises(solutions_dir, labs)
    limits = limits or Limits(exercise_seconds=120.0, student_seconds=900.0)
    results = run_cells([(e.name, e.source) for e in exercises], seed, limits, sandboxed,
                        hidden)
    broken = {name: r.get("error", "no observations") for name, r in results.items()
              if "observations" not in r}
    if broken:
        raise GradingError("the solutions fail their own checks: "
                           + "; ".join(f"{k}: {v}" for k, v in broken.items()))
    return exercises, {name: r["observations"] for name, r in results.items()}


# A network of Keras' own layers is saved by the cell's process and measured in a fresh one
# (runner.run_request); one that needs the student's code to load is measured where the cell
# ran, and its row says so.
MODEL_PROBES = ("generator", "discriminator")
OWN_PROCESS = ("measured in the student's own process (a subclassed model, a Lambda or a "
               "layer of their own, which need their code to load)")


# Characters of an error's text kept in a reason: the text comes from the student's process
# (an exception's message, or words the code wrote into the reply pipe). The grader's own
# reasons are never cut.
ERROR_CHARS = 1000


def _error_text(error):
    """An error from the sandbox as one line, at most ERROR_CHARS characters (then cut at a
    word, saying how much was left out)."""
    text = " ".join(str(error).split())
    if len(text) <= ERROR_CHARS:
        return text
    kept = text[:ERROR_CHARS].rsplit(" ", 1)[0]
    return f"{kept} ... ({len(text) - len(kept)} more characters of the error's text)"


def _grade_student(student, submission, exercises, reference, seed, limits, sandboxed,
                   hidden, made):
    result = StudentGrade(student)
    made = made or {e.name: inputs.make(e.name, seed) for e in exercises}
    if submission.problem:
        cells, reasons, results = [], {e.name: submission.problem for e in exercises}, {}
    else:  # reading the notebooks counts in the student's time
        started = time.monotonic()
        cells, reasons, origins = _student_cells(exercises, submission.books,
                                                 started + limits.student_seconds)
        result.sources = _relative(sorted(set(origins.values())), submission.books)
        result.origins = dict(zip(origins, _relative(list(origins.values()),
                                                     submission.books)))
        result.cells = dict(cells)
        results = (run_cells(cells, seed, limits, sandboxed, hidden, made, started,
                             self_check=True) if cells else {})
    for exercise in exercises:
        outcome = results.get(exercise.name, {})
        passed = False  # points only where the grader's own comparison passes
        if exercise.name in reasons:
            reason = reasons[exercise.name]
        elif "error" in outcome:  # whatever its text: the sandbox may have written it
            reason = _error_text(outcome["error"])
        else:
            passed, reason = compare(exercise.name, outcome.get("observations"),
                                     reference[exercise.name])
            if made[exercise.name]["probe"] in MODEL_PROBES and not outcome.get("fresh"):
                result.in_own_process.append(exercise.name)
        reason = " ".join(str(reason).split())  # one line, whole
        if exercise.name in result.cells:
            result.self_checks[exercise.name] = self_check_line(exercise.name, outcome)
        if not passed:
            result.reasons[exercise.name] = reason or NO_REASON
        result.points[exercise.name] = exercise.points if passed else 0
    result.graded_at = _now()
    return result


def self_check_line(name, outcome):
    """What the check cell in the student's notebook would have said of the exercise
    (``outcome``: the sandbox's reply), as one line: the self-check inputs are public
    (seed 0, ``self_check.json``), so the line reveals nothing of the graded ones. Only
    ever shown: the student's process measured it, and points never depend on it."""
    from . import NOT_IMPLEMENTED, judge_self_check

    if "error" in outcome:
        return "not run: the cell itself fails (as above), so the check cell would too"
    observed = outcome.get("self_check")
    try:  # untrusted, like every reply: a line in a report is never worth a crash
        if isinstance(observed, dict) and set(observed) == {"error"}:
            error = _error_text(observed["error"]) or NO_REASON
            return (f"{name}: {NOT_IMPLEMENTED}" if error.startswith("not implemented")
                    else error)
        if not isinstance(observed, dict):
            return "not measured"
        reference = _self_check_reference()[name]
        return " ".join(judge_self_check(name, observed, reference)[1].split())
    except Exception:  # noqa: BLE001
        return "not measured"


@functools.lru_cache(maxsize=1)
def _self_check_reference():
    from . import SELF_CHECK_FILE

    return json.loads(SELF_CHECK_FILE.read_text())


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def grade(paths, solutions_dir="solutions", seed=None, limits=None, workers=None,
          sandbox=True, labs=None, only=None) -> Grading:
    """Grade every submission found in ``paths``. ``seed`` picks the inputs (default: a
    fresh one each run, never the self-checks' 0). ``sandbox=False`` runs students' code
    without bwrap (see NO_SANDBOX_WARNING). ``labs`` (e.g. ["01"]): grade only those labs'
    exercises, out of their points. ``only`` (e.g. ["alice"]): grade only these students
    (their names as the CSV gives them); GradingError naming the students found if one is
    not among them."""
    if sandbox:
        try:
            check_available()
        except RuntimeError as error:
            raise GradingError(str(error)) from None
    seed = seed if seed is not None else 1 + secrets.randbelow(2**31 - 2)
    if seed == inputs.SELF_CHECK_SEED:
        raise GradingError("seed 0 makes the self-check inputs, which every student has")
    limits = limits or Limits()
    remove_stale()  # what a grader killed with -9 left behind
    solutions_dir = Path(solutions_dir)
    students = discover(paths, lab_names(solutions_dir))
    if only:
        missing = [name for name in only if name not in students]
        if missing:
            raise GradingError(f"no student {', '.join(map(repr, missing))} in "
                               f"{', '.join(map(str, paths))}; the students: "
                               + ", ".join(map(repr, sorted(students))))
        students = {name: students[name] for name in only}
    # kept out of every sandbox, even where they lie inside the mounted Python environment
    hidden = {solutions_dir, *map(Path, paths)}
    if (solutions_dir.resolve().parent / "pyproject.toml").exists():
        hidden.add(solutions_dir.resolve().parent)  # the project tree
    hidden = tuple(sorted(str(Path(p).resolve()) for p in hidden))
    exercises, reference = reference_observations(solutions_dir, seed, sandboxed=sandbox,
                                                  hidden=hidden, labs=labs)
    made = {e.name: inputs.make(e.name, seed) for e in exercises}

    def grade_one(item):
        student, submission = item
        try:
            return _grade_student(student, submission, exercises, reference, seed, limits,
                                  sandbox, hidden, made)
        except Exception as error:  # noqa: BLE001  one student never stops the class
            failed = StudentGrade(student, graded_at=_now())
            for exercise in exercises:
                failed.points[exercise.name] = 0
                failed.reasons[exercise.name] = f"grading failed: {type(error).__name__}"
            return failed

    workers = workers or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        grades = list(pool.map(grade_one, sorted(students.items())))
    return Grading(exercises, grades, seed, sandbox, cgroup_kinds())


def _cell(text):
    """A CSV cell a spreadsheet shows as text (no formulas from a student's folder name);
    a text that starts with ' gets one more, so the cell always reads back as it was."""
    text = str(text)
    first = text.lstrip("".join(map(chr, range(33))))[:1]  # past spaces and control characters
    return ("'" + text if first in ("=", "+", "-", "@") or text[:1] in ("\t", "\r", "'")
            else text)


def csv_header(exercises) -> list[str]:
    return ["student", *(e.name for e in exercises), "total", "max", "reasons",
            "graded from", "graded", "graded at"]


def csv_rows(grading: Grading) -> list[list[str]]:
    """One row a student (as ``csv_header`` names the columns): points per exercise, total,
    maximum, every lost point's reason, the notebooks graded, how and when."""
    names = [e.name for e in grading.exercises]
    maximum = sum(e.points for e in grading.exercises)
    rows = []
    for g in grading.grades:
        reasons = " | ".join(f"{name}: {g.reasons[name]}" for name in names if name in g.reasons)
        note = grading.note + (f"; {OWN_PROCESS}: {', '.join(g.in_own_process)}"
                               if g.in_own_process else "")
        rows.append([_cell(g.student), *(str(g.points[n]) for n in names), str(g.total),
                     str(maximum), _cell(reasons), _cell("; ".join(g.sources)), note,
                     g.graded_at])
    return rows


def _csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def write_csv(grading: Grading, path) -> Path:
    """The grades, one row a student (``csv_rows``), written once and atomically (a
    temporary file beside it, renamed), readable as the grader's other files are."""
    return files.write_text(path, _csv_text([csv_header(grading.exercises),
                                             *csv_rows(grading)]), newline="")


def updatable_rows(path, exercises) -> list[list[str]]:
    """The rows (header first) of a CSV that ``update_csv`` may change for a grading of
    ``exercises``; GradingError saying what to do if it is missing, has other columns or
    was not written by the grader. Checked before grading, so a regrade fails fast."""
    path = Path(path)
    try:
        with open(path, newline="") as stream:
            text = stream.read()
    except OSError as error:
        raise GradingError(f"cannot update {path}: {error.strerror}; grade the class "
                           "first with --out") from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or rows[0] != csv_header(exercises):
        found = ", ".join(rows[0]) if rows else "none"
        raise GradingError(f"{path} has other columns ({found}) than this grading's: "
                           "regrade with the --lab and --solutions the class was graded with")
    if _csv_text(rows) != text:
        raise GradingError(f"{path} was not written by the grader (or was edited since): "
                           "grade the class again with --out")
    return rows


def update_csv(grading: Grading, path) -> tuple[Path, list[str], list[str]]:
    """Replace the rows of ``grading``'s students in the CSV at ``path``, atomically; every
    other row stays byte for byte, the header too. Returns (path, replaced, added): the
    students (as their CSV cells) whose rows were replaced, and those added at the end."""
    rows = updatable_rows(path, grading.exercises)
    new = {row[0]: row for row in csv_rows(grading)}
    replaced = [row[0] for row in rows[1:] if row[0] in new]
    kept = [new.pop(row[0]) if row[0] in new else row for row in rows[1:]]
    added = list(new)
    files.write_text(path, _csv_text([rows[0], *kept, *new.values()]), newline="")
    return Path(path), replaced, added


def default_feedback(csv_path) -> Path:
    """Where reports go unless told: ``<csv stem>_feedback/`` beside the CSV."""
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.stem + "_feedback")


@dataclass
class Written:
    csv: Path
    feedback: Path | None  # the reports' folder (None: not written)
    overview: tuple  # (Markdown page, PNG)
    replaced: list = field(default_factory=list)  # --update: rows replaced
    added: list = field(default_factory=list)  # --update: rows added (no row before)


def write_results(grading: Grading, csv_path, feedback=True, update=False) -> Written:
    """Everything an instructor gets from a run: the CSV (``update``: only these students'
    rows replaced), a feedback report each of these students and the index of all in
    ``feedback`` (a folder; True: ``default_feedback``; False: none), and the class
    overview of the whole CSV beside it."""
    from .feedback import write_index, write_reports
    from .overview import read_rows, write_overview

    if update:
        path, replaced, added = update_csv(grading, csv_path)
    else:
        path, replaced, added = write_csv(grading, csv_path), [], []
    folder = None
    if feedback is not False:
        folder = default_feedback(path) if feedback is True else Path(feedback)
        write_reports(grading, folder)
        write_index(read_rows(path), folder,
                    regraded=[g.student for g in grading.grades] if update else ())
    overview = write_overview(path, grading.exercises)
    return Written(path, folder, overview, replaced, added)
