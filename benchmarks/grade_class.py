"""Time the grading of a class: N students, each a copy of one of the hand-made submissions
(correct, partly done, crashing, hanging, tampering, mistaken), three notebooks each.

    python benchmarks/grade_class.py [--students 50] [--timeout 20]

Prints the wall time and the students per minute; the target is 50 students in under
5 minutes on 2 cores.
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import students  # noqa: E402

from gan_lab.grading.grader import grade  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        kinds, klass = Path(folder) / "kinds", Path(folder) / "class"
        students.write_class(kinds)
        students.copy_class(kinds, klass, args.students)
        started = time.perf_counter()
        exercises, grades = grade([klass], ROOT / "solutions", timeout=args.timeout)
        seconds = time.perf_counter() - started
    totals = Counter(g.total for g in grades)
    print(f"machine: {os.cpu_count()} cores; students: {len(grades)}, 3 notebooks and "
          f"{len(exercises)} exercises each; exercise time limit {args.timeout:.0f} s")
    print(f"graded in {seconds:.1f} s ({len(grades) / seconds * 60:.1f} students a minute)")
    print("score distribution:", dict(sorted(totals.items())))


if __name__ == "__main__":
    main()
