"""Time the grading of a class in bubblewrap sandboxes: N students, all five notebooks each,
copies of the hostile class's kinds (tests/grading/students.py: correct in three styles,
partly done, planted bugs, crashing, reading answers, forging, tampering, escaping, odd
layouts), each student in a fresh sandbox of its own.

    python benchmarks/grade_class.py [--students 50] [--timeout 20] [--workers N]

Prints the wall time, the students per minute and what one sandbox costs to start (bwrap
and the import of TensorFlow in it); the target is 50 students in under 5 minutes on 2 cores.
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "grading"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import students  # noqa: E402

from gan_lab.grading import sandbox  # noqa: E402
from gan_lab.grading.grader import grade  # noqa: E402
from gan_lab.grading.sandbox import Limits  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    sandbox.check_available()
    load = os.getloadavg()
    starts, started_session = [], sandbox.Session.__init__

    def timed_start(self, *a, **k):  # what a sandbox costs before any exercise runs
        begun = time.perf_counter()
        started_session(self, *a, **k)
        starts.append(time.perf_counter() - begun)

    sandbox.Session.__init__ = timed_start
    with tempfile.TemporaryDirectory() as folder:
        kinds, klass = Path(folder) / "kinds", Path(folder) / "class"
        students.write_class(kinds, process_cap=sandbox.process_cap_kind() != "none")
        students.copy_class(kinds, klass, args.students)
        started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        grading = grade([klass], ROOT / "solutions", workers=args.workers,
                        limits=Limits(exercise_seconds=args.timeout))
        seconds = time.perf_counter() - started
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_seconds = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime
    totals = Counter(g.total for g in grading.grades)
    workers = args.workers or os.cpu_count()
    from gan_lab.runtime import cpu_name  # imports TensorFlow: once, here, not in the grader

    print(f"machine: {cpu_name()}, {os.cpu_count()} cores; {workers} students at once")
    print(f"students: {len(grading.grades)} (five notebooks, {len(grading.exercises)} "
          f"exercises each; the hostile kinds), exercise time limit {args.timeout:.0f} s")
    print(f"graded in {seconds:.1f} s ({len(grading.grades) / seconds * 60:.1f} students a "
          f"minute), solutions included; load average before {load[0]:.1f}, after "
          f"{os.getloadavg()[0]:.1f}")
    print(f"CPU time of the sandboxes: {cpu_seconds:.0f} s ({cpu_seconds / os.cpu_count():.0f} s "
          f"of wall time on {os.cpu_count()} idle cores)")
    print(f"sandboxes started: {len(starts)} (one a student, more after a stall); start-up "
          f"(bwrap + TensorFlow's import inside) median {statistics.median(starts):.1f} s, "
          f"max {max(starts):.1f} s")
    print("score distribution:", dict(sorted(totals.items())))


if __name__ == "__main__":
    main()
