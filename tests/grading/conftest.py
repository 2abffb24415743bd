"""``pytest tests/grading --submission PATH``: one test a student and exercise, failing with
the reason the points were lost. Without --submission it grades solutions/ (full marks).
Grading runs students' code in bubblewrap sandboxes: without bwrap these tests are skipped
with the reason (CI installs it: .ci/run)."""

import os
import pickle
from pathlib import Path

import pytest

from gan_lab.files import atomic_path, exclusive
from gan_lab.grading import sandbox
from gan_lab.grading.grader import discover, grade, lab_names, solution_exercises, write_csv
from gan_lab.grading.sandbox import Limits

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def pytest_configure(config):
    config.addinivalue_line("markers", "sandbox: grades in bubblewrap sandboxes (needs bwrap; "
                                       "run in CI, which installs it)")


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
                       labs=config.getoption("labs"))
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
