"""Grading: self-checks for students, and the class grader for instructors.

``check(name, obj)`` runs in a student's notebook: the same probe the grader runs, on
other inputs (seed 0; a grading run never uses them), compared with the solutions'
observations stored in ``self_check.json`` (written by ``python -m gan_lab release``). It
needs no sandbox: a student who fools it fools only themself.
"""

from __future__ import annotations

import json
from pathlib import Path

from .inputs import SELF_CHECK_SEED

SELF_CHECK_FILE = Path(__file__).with_name("self_check.json")


class CheckFailed(AssertionError):
    """An exercise does not match the reference; the message says where."""


class Verdict(str):
    """The line ``check`` printed. A str (so it can be tested and compared), which a
    notebook does not display again as the cell's value: the verdict shows once."""

    def _ipython_display_(self):
        pass  # already printed by check()


def check(name: str, obj) -> str:
    """Check a notebook exercise against the reference; prints and returns a line saying it
    passed (shown once in a notebook: see Verdict), raises CheckFailed with the first
    difference (shape, range, value at a given input)."""
    from . import inputs
    from .compare import compare
    from .probes import run_probe

    if name not in inputs.MAKERS:
        raise KeyError(f"no exercise called {name!r}; exercises: {', '.join(inputs.MAKERS)}")
    try:
        observations = run_probe(obj, inputs.make(name, SELF_CHECK_SEED))
    except NotImplementedError:
        raise CheckFailed(f"{name}: {NOT_IMPLEMENTED}") from None
    passed, line = judge_self_check(name, observations)
    if not passed:
        raise CheckFailed(line)
    message = Verdict(line)
    print(message)
    return message


NOT_IMPLEMENTED = "not implemented yet (the cell still raises NotImplementedError)"


def judge_self_check(name: str, observations, reference=None) -> tuple[bool, str]:
    """(passed, the line ``check`` shows) for observations on the self-check inputs:
    "name: all N checks pass", or "name: <the first difference>" (what CheckFailed says).
    The grader uses it for the reports: what the student's check cell would have said."""
    from .compare import compare

    if reference is None:
        reference = json.loads(SELF_CHECK_FILE.read_text())[name]
    passed, reason = compare(name, observations, reference)
    if not passed:
        return False, f"{name}: {reason}"
    judged = sum(1 for entry in reference.values() if entry.get("judged") is not False)
    return True, f"{name}: all {judged} checks pass"


def write_self_check_reference(solutions_dir="solutions", path=SELF_CHECK_FILE) -> Path:
    """Run the solutions (in a child process) on the self-check inputs and store what they give."""
    from .grader import reference_observations

    # The solutions are the instructor's own code: run without a sandbox, so release works
    # where bubblewrap is not installed.
    _, observations = reference_observations(solutions_dir, seed=SELF_CHECK_SEED,
                                             sandboxed=False)
    text = json.dumps(observations, indent=1) + "\n"  # probe order: first checks first
    Path(path).write_text(text)
    return Path(path)
