import pytest

pytestmark = [pytest.mark.integration, pytest.mark.sandbox]


def test_exercise(graded_exercise, grading):
    student = next(g for g in grading.grades if g.student == graded_exercise[0])
    exercise = next(e for e in grading.exercises if e.name == graded_exercise[1])
    reason = student.reasons.get(exercise.name)
    if reason:
        pytest.fail(f"{student.student} loses {exercise.points} point(s) on {exercise.name}: "
                    f"{reason}", pytrace=False)
    assert student.points[exercise.name] == exercise.points
