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
from dataclasses import dataclass
from pathlib import Path

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


NOTEBOOK_BYTES = 20 << 20  # a student's notebook larger than this is not read
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


def read_submission(path):
    """A student's notebook, read without following links or blocking on odd files;
    ValueError (with the reason) for anything that is not a regular notebook file."""
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
            raise ValueError(f"larger than {NOTEBOOK_BYTES >> 20} MiB")
        data = stream.read(NOTEBOOK_BYTES + 1)
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except RecursionError:
        raise ValueError("nested too deep to read") from None
    except Exception as error:  # noqa: BLE001  nbformat raises many kinds
        raise ValueError(f"not a notebook ({type(error).__name__})") from None
    if not isinstance(notebook.get("cells"), list):
        raise ValueError("not a notebook (no cells)")
    return notebook


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
