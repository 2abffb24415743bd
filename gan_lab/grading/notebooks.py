"""Notebooks as the grader sees them: exercise cells, and the release of student labs.

An exercise cell carries ``{"gan_lab": {"exercise": NAME, "points": P}}`` in its metadata,
defines NAME and nothing else. In ``solutions/`` its answer sits between
``### BEGIN SOLUTION`` and ``### END SOLUTION``; ``release`` writes the lab the students
get, each such region replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError``.
"""

from __future__ import annotations

import ast
import re
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


def find_definition(notebook, name):
    """Source of a code cell that defines ``name`` at top level, for a student notebook
    whose cell lost its metadata (e.g. the code was pasted into a new cell)."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = parse(cell.source)
        except SyntaxError:
            if re.search(rf"^def {re.escape(name)}\b", cell.source, re.MULTILINE):
                return cell.source
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                return cell.source
    return None


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
    except SyntaxError:
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
