import pytest

pytestmark = pytest.mark.sandbox


def test_exercise(graded_exercise):
    student, exercise = graded_exercise
    reason = student.reasons.get(exercise.name)
    if reason:
        pytest.fail(f"{student.student} loses {exercise.points} point(s) on {exercise.name}: "
                    f"{reason}", pytrace=False)
    assert student.points[exercise.name] == exercise.points
