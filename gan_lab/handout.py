"""The lab notebooks an installed gan_lab hands out: ``gan-lab labs DIR`` writes them into a
folder the student names. They ship inside the package (``gan_lab.labs``, the repository's
labs/ folder), so a student needs the package, not a clone."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .files import write_text


class LabsError(ValueError):
    """A lab folder that cannot be written without losing a student's work."""


def lab_notebooks() -> dict[str, str]:
    """{file name: notebook text} of the five lab notebooks shipped with the package."""
    shipped = resources.files("gan_lab.labs")
    return {item.name: item.read_text(encoding="utf-8")
            for item in sorted(shipped.iterdir(), key=lambda item: item.name)
            if item.name.endswith(".ipynb")}


def write_labs(folder, overwrite=False) -> dict[str, str]:
    """Write the lab notebooks into ``folder`` (created if needed); returns {path: what
    happened} ("written", "unchanged" or "replaced").

    A notebook already there that differs from the shipped one is a student's work: nothing
    is written and LabsError names those files, unless ``overwrite`` (then they are replaced).
    """
    folder = Path(folder)
    notebooks = lab_notebooks()
    changed = [name for name, text in notebooks.items()
               if (folder / name).exists() and (folder / name).read_text(encoding="utf-8") != text]
    if changed and not overwrite:
        raise LabsError(f"{folder} already holds changed copies of {', '.join(changed)}: "
                        "your work is kept. Write the labs into another folder, or pass "
                        "--overwrite to replace them with fresh copies")
    done = {}
    for name, text in notebooks.items():
        path = folder / name
        status = ("replaced" if name in changed else
                  "unchanged" if path.exists() else "written")
        if status != "unchanged":
            write_text(path, text)
        done[str(path)] = status
    return done
