"""``pytest tests/grading --submission PATH``: one test a student and exercise, failing with
the reason the points were lost. Without --submission it grades solutions/ (full marks).
Grading runs students' code in bubblewrap sandboxes: without bwrap these tests are skipped
with the reason (CI installs it: .ci/run)."""

import csv
import os
import pickle
import time
from pathlib import Path

import pytest

from gan_lab.files import atomic_path, exclusive
from gan_lab.grading import sandbox
from gan_lab.grading.grader import discover, grade, lab_names, solution_exercises, write_csv
from gan_lab.grading.sandbox import Limits

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
_STARTED = pytest.StashKey[float]()


def pytest_configure(config):
    config.addinivalue_line("markers", "sandbox: grades in bubblewrap sandboxes (needs bwrap; "
                                       "run in CI, which installs it)")
    config.stash[_STARTED] = time.time()


def pytest_terminal_summary(terminalreporter, config):
    """Where the grades went, and how they were graded (the CSV's own words), once the tests
    have reported: a grader of a class wants the file, not only 300 test lines."""
    path = config.getoption("grades_csv")
    if not path or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    path = Path(path).resolve()
    if not path.exists() or path.stat().st_mtime < config.stash.get(_STARTED, 0):
        terminalreporter.write_line(f"grades: {path} was not written by this run")
        return
    with open(path, newline="") as stream:
        rows = list(csv.DictReader(stream))
    terminalreporter.write_sep("-", "grades")
    terminalreporter.write_line(f"{len(rows)} student(s) written to {path}"
                                + (f" ({rows[0]['graded']})" if rows else ""))


def pytest_generate_tests(metafunc):
    # One test a student and exercise, named from the files alone: the grading itself runs
    # once, in the fixture below, not at collection (where each pytest-xdist worker would
    # grade the class again, with inputs of its own).
    if "graded_exercise" not in metafunc.fixturenames:
        return
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        metafunc.parametrize("graded_exercise", [pytest.param(
            None, marks=pytest.mark.skip(reason=str(error)))])
        return
    students = discover(metafunc.config.getoption("submission") or [SOLUTIONS],
                        lab_names(SOLUTIONS))
    exercises = [e.name for e in solution_exercises(SOLUTIONS,
                                                    metafunc.config.getoption("labs"))]
    cases = [(s, e) for s in students for e in exercises]
    metafunc.parametrize("graded_exercise", cases, ids=[f"{s}-{e}" for s, e in cases])


@pytest.fixture(scope="session")
def grading(request, tmp_path_factory):
    """The grading of the --submission paths (default: solutions/), done once a test run:
    under pytest-xdist the first worker grades and the others load its result."""
    config = request.config

    def run():
        result = grade(config.getoption("submission") or [SOLUTIONS], SOLUTIONS,
                       limits=Limits(exercise_seconds=config.getoption("grading_timeout")),
                       labs=config.getoption("labs"), seed=config.getoption("grading_seed"),
                       workers=config.getoption("grading_workers"))
        if config.getoption("grades_csv"):
            write_csv(result, config.getoption("grades_csv"))
        return result

    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return run()
    # the workers' temporary folders share this parent (pytest-xdist's documented idiom)
    shared = tmp_path_factory.getbasetemp().parent / "grading.pickle"
    with exclusive(shared.with_suffix(".lock")):
        if not shared.exists():
            with atomic_path(shared) as temporary:
                temporary.write_bytes(pickle.dumps(run()))
        return pickle.loads(shared.read_bytes())
