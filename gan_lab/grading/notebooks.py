"""Notebooks as the grader sees them: exercise cells, and the release of student labs.

An exercise cell carries ``{"gan_lab": {"exercise": NAME, "points": P}}`` in its metadata,
defines NAME and nothing else. In ``solutions/`` its answer sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; ``release`` writes the lab the students
get, each such region replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError``.
"""

from __future__ import annotations

import ast
import errno
import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import ijson
import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_REGION = re.compile(
    r"^(?P<indent>[ \t]*)" + re.escape(BEGIN) + r"[^\n]*\n.*?^[ \t]*" + re.escape(END)
    + r"[^\n]*(\n|$)",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class ExerciseCell:
    name: str
    points: int
    source: str
    notebook: str  # file name, e.g. 01_vanilla_gan.ipynb


def read(path):
    return nbformat.read(str(path), as_version=4)


def exercise_cells(notebook, notebook_name="") -> list[ExerciseCell]:
    """The exercise cells of a notebook (by their metadata), in order."""
    cells = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("gan_lab", {})
        if cell.cell_type == "code" and "exercise" in meta:
            cells.append(ExerciseCell(meta["exercise"], int(meta.get("points", 1)),
                                      cell.source, notebook_name))
    return cells


# CPython 3.11 before 3.11.8 builds ASTs in one shared state: ast.parse from two threads at
# once (the grader grades students in threads) can fail with "SystemError: AST constructor
# recursion depth mismatch" (python/cpython#106905). Parsing is cheap; do it one at a time.
_PARSE_LOCK = threading.Lock()


def parse(source: str) -> ast.Module:
    """``ast.parse``, safe to call from several threads (raises SyntaxError as it does)."""
    with _PARSE_LOCK:
        return ast.parse(source)


def _defines(tree, name):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.name == name:
            return True
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign))
                   else [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                (a.asname or a.name) == name for a in node.names):
            return True
    return False


def definitions(notebook, names):
    """{name: source of the cell that defines it} for each of ``names`` when the notebook is
    run top to bottom: the last code cell tagged with it or defining it at top level (a stub
    left above a pasted answer, a cell that lost its metadata). Each cell is parsed at most
    once, and only if its text names one of ``names``."""
    found = {}
    for cell in notebook.cells:
        if cell.get("cell_type") != "code" or not isinstance(cell.get("source"), str):
            continue
        meta = cell.get("metadata", {}).get("gan_lab", {})
        tagged = meta.get("exercise") if isinstance(meta, dict) else None
        if tagged in names:
            found[tagged] = cell.source
        named = [n for n in names if n != tagged and n in cell.source]
        if not named:
            continue
        try:
            tree = parse(cell.source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            for name in named:
                if re.search(rf"^def {re.escape(name)}\b", cell.source, re.MULTILINE):
                    found[name] = cell.source
            continue
        for name in named:
            if _defines(tree, name):
                found[name] = cell.source
    return found


def find_definition(notebook, name):
    """Source of the cell that defines exercise ``name`` (see ``definitions``), or None."""
    return definitions(notebook, [name]).get(name)


def _is_check_call(node):
    """``gan_lab.check(...)`` or ``check(...)`` as a statement of its own."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    function = node.value.func
    return ((isinstance(function, ast.Name) and function.id == "check")
            or (isinstance(function, ast.Attribute) and function.attr == "check"
                and isinstance(function.value, ast.Name) and function.value.id == "gan_lab"))


def _is_check_import(node):
    if isinstance(node, ast.Import):
        return all(a.name == "gan_lab" and a.asname is None for a in node.names)
    return (isinstance(node, ast.ImportFrom) and node.module == "gan_lab"
            and all(a.name == "check" and a.asname is None for a in node.names))


def without_self_checks(source: str) -> str:
    """The cell without its top-level self-check lines (``import gan_lab``, ``from gan_lab
    import check``, ``gan_lab.check(...)``): a check left in an exercise cell is ignored."""
    try:
        tree = parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source
    drop, keep = set(), set()
    for node in tree.body:
        lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        (drop if _is_check_call(node) or _is_check_import(node) else keep).update(lines)
    drop -= keep  # a check sharing a line with other code stays (and fails on its own)
    if not drop:
        return source
    return "\n".join("" if number in drop else line
                     for number, line in enumerate(source.splitlines(), 1))


# A student's notebook is read for its code cells only: outputs (images, GIFs, logs),
# attachments and the notebook's own metadata are skipped as they stream past, so they cost
# no points whatever their size. The file cap below is far above any lab with its outputs
# (a 2-epoch Lab 1 is 1.4 MB; a 100-epoch run's GIFs some tens of MB): it bounds the time
# spent reading, not the code.
NOTEBOOK_BYTES = 1 << 30
READ_CHUNK = 4 << 20  # bytes the parser is handed at a time (small chunks make long strings slow)
MAX_NESTING = 64  # a notebook nests 6 deep; far deeper is not a notebook
# What the grader reads of one student's notebooks, all together (a lab has 8 to 20 code
# cells and under 8 KiB of code): beyond it a notebook is not read, so that finding a
# student's cells stays a matter of seconds.
CODE_CELLS = 1000
CODE_BYTES = 256 << 10


def code_size(notebook):
    """(code cells, characters of code) of a notebook read by ``read_submission``."""
    code = [c for c in notebook.cells if isinstance(c, dict) and c.get("cell_type") == "code"
            and isinstance(c.get("source"), str)]
    return len(code), sum(len(c["source"]) for c in code)


class Unreadable(ValueError):
    """A notebook that cannot be read; the message says why, in the grader's words."""


def read_submission(path, deadline=None):
    """A student's notebook as its code cells only (source, cell type and the ``gan_lab``
    metadata; outputs skipped unread), read without following links or blocking on odd
    files; ValueError (with the reason) for anything that is not a regular notebook file.
    Reading stops once the notebook holds more code than ``CODE_CELLS``/``CODE_BYTES`` (it
    is refused for that), or at ``deadline`` (a ``time.monotonic()``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise ValueError("a link or an unreadable file" if error.errno == errno.ELOOP
                         else f"cannot be opened ({error.strerror})") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > NOTEBOOK_BYTES:
            raise ValueError(f"larger than {NOTEBOOK_BYTES >> 30} GiB, outputs included")
        try:
            cells = _code_cells(stream, deadline)
        except Unreadable:
            raise
        except RecursionError:
            raise Unreadable("nested too deep to read") from None
        except Exception as error:  # noqa: BLE001  ijson raises its own kinds
            raise ValueError(f"not a notebook ({type(error).__name__})") from None
    if cells is None:
        raise ValueError("not a notebook (no cells; notebooks of format 4 are read)")
    return nbformat.from_dict({"cells": cells, "metadata": {}, "nbformat": 4,
                               "nbformat_minor": 5})


# Where the values a grader needs lie in a notebook's JSON ("item" = any list element).
_CELL = ("cells", "item")
_KEPT = {_CELL + ("cell_type",): "cell_type", _CELL + ("source",): "source",
         _CELL + ("source", "item"): "source",
         _CELL + ("metadata", "gan_lab", "exercise"): "exercise",
         _CELL + ("metadata", "gan_lab", "points"): "points"}


def _code_cells(stream, deadline):
    """The cells of a notebook's JSON, streamed: [{"cell_type", "source", "metadata"}], or
    None without a top-level list of cells. Every other value (outputs first) is parsed past
    and dropped, one value at a time."""
    stack, cells, cell, found = [], [], None, False  # stack: [key] of each open container
    code_cells = code_chars = 0
    for count, (event, value) in enumerate(ijson.basic_parse(stream, buf_size=READ_CHUNK)):
        if event == "map_key":
            stack[-1] = value
            continue
        if deadline is not None and count % 4096 == 0 and time.monotonic() > deadline:
            raise Unreadable("not read within the student's time limit")
        if event in ("end_map", "end_array"):
            stack.pop()
        where = tuple(stack)
        if event in ("start_map", "start_array"):
            if len(stack) >= MAX_NESTING:
                raise Unreadable("nested too deep to read")
            found = found or (where == ("cells",) and event == "start_array")
            if where == _CELL and event == "start_map":
                cell = {"cell_type": None, "source": [], "metadata": {}}
            stack.append(None if event == "start_map" else "item")
        elif where == _CELL and event == "end_map" and cell is not None:
            source = cell["source"]
            cell["source"] = ("".join(source) if isinstance(source, list)
                              and all(isinstance(part, str) for part in source) else None)
            if cell["cell_type"] != "code":
                cell["source"] = None  # markdown's inlined images are not code either
            else:
                code_cells += 1
                code_chars += len(cell["source"] or "")
            cells.append(cell)
            cell = None
            if code_cells > CODE_CELLS or code_chars > CODE_BYTES:
                return cells  # refused by the caller for its size: no need to read on
        elif cell is not None and where in _KEPT and event not in ("end_map", "end_array"):
            _keep(cell, _KEPT[where], value, listed=where[-1] == "item")
    return cells if found else None


def _keep(cell, field, value, listed):
    if field == "source":
        if listed:
            if isinstance(cell["source"], list):
                cell["source"].append(value)
        else:
            cell["source"] = [value] if isinstance(value, str) else None
    elif field == "cell_type":
        cell["cell_type"] = value
    elif (isinstance(value, str) if field == "exercise"
          else isinstance(value, int) and not isinstance(value, bool)):
        cell["metadata"].setdefault("gan_lab", {})[field] = value


def strip_solution(source: str, exercise: str) -> str:
    """Replace every solution region by a stub that raises NotImplementedError."""

    def stub(match):
        indent = match.group("indent")
        return (f"{indent}# YOUR CODE HERE\n"
                f"{indent}raise NotImplementedError(\"{exercise}: write this exercise\")\n")

    return _REGION.sub(stub, source).rstrip("\n")


def release_notebook(solution) -> nbformat.NotebookNode:
    """The student version of a solution notebook: answers stubbed, outputs cleared."""
    notebook = nbformat.from_dict(solution)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            meta = cell.get("metadata", {}).get("gan_lab", {})
            if BEGIN in cell.source:
                cell.source = strip_solution(cell.source, meta.get("exercise", "exercise"))
    return notebook


def release(solutions_dir="solutions", labs_dir="labs", check=False) -> list[Path]:
    """Write ``labs_dir/*.ipynb`` from ``solutions_dir/*.ipynb``.

    With ``check=True`` write nothing and return the labs that differ from what would be
    written (an empty list means the labs are up to date).
    """
    solutions_dir, labs_dir = Path(solutions_dir), Path(labs_dir)
    solutions = sorted(solutions_dir.glob("*.ipynb"))
    if not solutions:
        raise FileNotFoundError(f"no solution notebooks in {solutions_dir}")
    changed = []
    for solution in solutions:
        text = nbformat.writes(release_notebook(read(solution))) + "\n"
        target = labs_dir / solution.name
        if not target.exists() or target.read_text() != text:
            changed.append(target)
            if not check:
                labs_dir.mkdir(parents=True, exist_ok=True)
                target.write_text(text)
    return changed


def uses_gan_lab(source: str) -> bool:
    """True if the code imports or names gan_lab: the library holds the answers."""
    try:
        tree = parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "gan_lab"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "gan_lab":
            return True
        if isinstance(node, ast.Name) and node.id == "gan_lab":
            return True
    return False
