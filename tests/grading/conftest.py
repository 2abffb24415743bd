"""``pytest tests/grading --submission PATH``: one test a student and exercise, failing with
the reason the points were lost. Without --submission it grades solutions/ (full marks).
Grading runs students' code in bubblewrap sandboxes: without bwrap these tests are skipped
with the reason (CI installs it: .ci/run)."""

from pathlib import Path

import pytest

from gan_lab.grading import sandbox
from gan_lab.grading.grader import grade, write_csv
from gan_lab.grading.sandbox import Limits

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def pytest_configure(config):
    config.addinivalue_line("markers", "sandbox: grades in bubblewrap sandboxes (needs bwrap; "
                                       "run in CI, which installs it)")


def pytest_generate_tests(metafunc):
    if "graded_exercise" not in metafunc.fixturenames:
        return
    config = metafunc.config
    if not hasattr(config, "_gan_lab_grades"):
        try:
            sandbox.check_available()
        except sandbox.SandboxUnavailable as error:
            metafunc.parametrize("graded_exercise", [pytest.param(
                None, marks=pytest.mark.skip(reason=str(error)))])
            return
        paths = config.getoption("submission") or [SOLUTIONS]
        grading = grade(paths, SOLUTIONS,
                        limits=Limits(exercise_seconds=config.getoption("grading_timeout")))
        if config.getoption("grades_csv"):
            write_csv(grading, config.getoption("grades_csv"))
        config._gan_lab_grades = grading
    grading = config._gan_lab_grades
    cases = [(g, e) for g in grading.grades for e in grading.exercises]
    metafunc.parametrize("graded_exercise", cases,
                         ids=[f"{g.student}-{e.name}" for g, e in cases])
