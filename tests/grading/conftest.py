"""``pytest tests/grading --submission PATH``: one test a student and exercise, failing with
the reason the points were lost. Without --submission it grades solutions/ (full marks)."""

from pathlib import Path

from gan_lab.grading.grader import grade, write_csv

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def pytest_generate_tests(metafunc):
    if "graded_exercise" not in metafunc.fixturenames:
        return
    config = metafunc.config
    if not hasattr(config, "_gan_lab_grades"):
        paths = config.getoption("submission") or [SOLUTIONS]
        exercises, grades = grade(paths, SOLUTIONS, timeout=config.getoption("grading_timeout"))
        if config.getoption("grades_csv"):
            write_csv(exercises, grades, config.getoption("grades_csv"))
        config._gan_lab_grades = (exercises, grades)
    exercises, grades = config._gan_lab_grades
    cases = [(g, e) for g in grades for e in exercises]
    metafunc.parametrize("graded_exercise", cases,
                         ids=[f"{g.student}-{e.name}" for g, e in cases])
