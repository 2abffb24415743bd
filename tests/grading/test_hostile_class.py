"""The hostile class (students.py) graded end to end in bubblewrap sandboxes: cheats get 0,
correct answers in other styles full marks, each planted bug loses exactly its exercise with
a reason naming the rule, no process survives, nothing outside a student's folder changes,
and the CSV stays as the grader wrote it."""

import csv
import hashlib
import os
import time
import uuid
from pathlib import Path

import pytest

import students
from gan_lab.grading import sandbox
from gan_lab.grading.grader import grade, write_csv
from gan_lab.grading.sandbox import Limits

ROOT = students.ROOT


def _sandbox_missing():
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        return str(error)
    return ""


pytestmark = [pytest.mark.integration, pytest.mark.sandbox,
              pytest.mark.skipif(bool(_sandbox_missing()), reason=_sandbox_missing())]


def tree_hash(folder, skip=()):
    """Hash of every path, link target and file content under ``folder`` (FIFOs by name)."""
    digest = hashlib.sha256()
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(current, d))]):
            path = os.path.join(current, name)
            digest.update(path.encode())
            if os.path.islink(path):
                digest.update(os.readlink(path).encode())
            elif os.path.isfile(path):
                digest.update(Path(path).read_bytes())
    return digest.hexdigest()


# The project files a student would want to change (the lead may edit others while the
# tests run, so the whole tree is searched for the marker instead of hashed).
PROJECT_HASHED = ("solutions", "labs", "gan_lab/grading")
PROJECT_SKIPPED = {".git", "runs", "__pycache__", ".pytest_cache", "node_modules", ".venv",
                   "venv"}


def files_with(marker, folder):
    found = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in PROJECT_SKIPPED]
        for name in files:
            path = os.path.join(current, name)
            if marker in name:
                found.append(path)
            elif (os.path.isfile(path) and not os.path.islink(path)
                  and os.path.getsize(path) < 50 << 20
                  and marker.encode() in Path(path).read_bytes()):
                found.append(path)
    return found


def processes_with(marker):
    """PIDs whose command line holds ``marker`` (the processes the class tried to leave)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def our_sandboxes():
    """bwrap processes still running that this test process started."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            if name == "bwrap" and int(fields[1]) == os.getpid():
                found.append(int(entry))
    return found


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, request):
    if request.config.getoption("submission"):
        pytest.skip("grading the submissions given with --submission, not the hostile class")
    root = tmp_path_factory.mktemp("hostile_class")
    out = tmp_path_factory.mktemp("grades") / "grades.csv"
    marker = f"GAN_LAB_HOSTILE_{uuid.uuid4().hex[:12]}"
    capped = sandbox.process_cap_kind() != "none"
    expected = students.write_class(root, marker, process_cap=capped)
    before = {"class": tree_hash(root),
              "project": {p: tree_hash(ROOT / p, PROJECT_SKIPPED) for p in PROJECT_HASHED},
              "marked": files_with(marker, root)}  # the notebooks that carry the attacks
    started = time.monotonic()
    grading = grade([root], students.SOLUTIONS, workers=3,
                    limits=Limits(exercise_seconds=8, student_seconds=150))
    seconds = time.monotonic() - started
    write_csv(grading, out)
    after_grading = {"processes": processes_with(marker), "sandboxes": our_sandboxes(),
                     "csv": Path(out).read_bytes()}
    return dict(grading=grading, grades={g.student: g for g in grading.grades},
                expected=expected, root=root, out=out, marker=marker, before=before,
                after=after_grading, seconds=seconds)


def test_every_submission_gets_a_row(hostile):
    assert set(hostile["grades"]) == set(hostile["expected"])


def test_each_exercise_scores_as_its_student_deserves(hostile):
    """Cheats and bugs lose their exercise, with the reason's phrase; all else full marks."""
    wrong = []
    for student, lost in hostile["expected"].items():
        result = hostile["grades"][student]
        for exercise in hostile["grading"].exercises:
            reason = result.reasons.get(exercise.name)
            if exercise.name in lost:
                phrase = lost[exercise.name]
                if result.points[exercise.name] != 0 or phrase not in (reason or ""):
                    wrong.append(f"{student}/{exercise.name}: wanted 0 with {phrase!r}, "
                                 f"got {result.points[exercise.name]}: {reason}")
            elif result.points[exercise.name] != exercise.points:
                wrong.append(f"{student}/{exercise.name}: wanted full marks, got: {reason}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("student, books", [
    ("alice_functional", ("01", "02", "04", "05")), ("amir_keywords", ("01", "02", "04")),
    ("ana_subclassed", ("01", "02")), ("heidi_one_level_down", ("04",)),
    ("kim_duplicates", ("01", "04"))])
def test_correct_answers_in_any_style_or_layout_get_full_marks(hostile, student, books):
    result = hostile["grades"][student]
    handed_in = [e for e in hostile["grading"].exercises if e.name in students._names(books)]
    assert result.total == sum(e.points for e in handed_in), result.reasons
    if len(books) == 4:
        assert result.total == sum(e.points for e in hostile["grading"].exercises) == 31


@pytest.mark.parametrize("student, exercise, rule", [
    ("frank_missed_bugs", "build_discriminator", "dropout rates in training mode"),
    ("frank_missed_bugs", "train_step", "training= flags D was called with"),
    ("frank_missed_bugs", "build_dcgan_discriminator", "std of each kernel as built"),
    ("frank_missed_bugs", "build_dcgan_generator", "batch norm after the output layer"),
    ("frank_missed_bugs", "mode_coverage", "modes covered (means nearest to at least one point"),
    ("grace_missed_bugs", "mode_coverage", "modes covered (means nearest to at least one point"),
    ("grace_missed_bugs", "pack_samples", "packed values for images"),
    ("frank_missed_bugs", "slerp", "exactly parallel codes"),
    ("grace_missed_bugs", "build_discriminator", "activations (what each computes)"),
    ("frank_missed_bugs", "gradient_penalty", "a linear critic"),
    ("grace_missed_bugs", "hinge_discriminator_loss", "beyond +-1"),
])
def test_a_planted_bug_is_named_by_its_rule_first(hostile, student, exercise, rule):
    reason = hostile["grades"][student].reasons[exercise]
    assert rule in reason.split(": ")[0], reason


def test_no_process_outlives_the_grading(hostile):
    assert hostile["after"]["processes"] == []
    assert hostile["after"]["sandboxes"] == []
    time.sleep(1)
    assert processes_with(hostile["marker"]) == []


def test_nothing_outside_a_students_sandbox_changed(hostile):
    before = hostile["before"]
    assert tree_hash(hostile["root"]) == before["class"]
    for path, digest in before["project"].items():
        assert tree_hash(ROOT / path, PROJECT_SKIPPED) == digest, path
    assert files_with(hostile["marker"], hostile["root"]) == before["marked"]
    for folder in (hostile["out"].parent, ROOT):
        assert files_with(hostile["marker"], folder) == []


def test_the_csv_stays_as_the_grader_wrote_it(hostile):
    time.sleep(2)  # the class's daemons would have tried by now
    assert Path(hostile["out"]).read_bytes() == hostile["after"]["csv"]
    rows = list(csv.DictReader(open(hostile["out"], newline="")))
    assert len(rows) == len(hostile["expected"])
    odd = [row for row in rows if "HYPERLINK" in row["student"]]
    assert odd[0]["student"] == "'" + students.ODD_NAME  # shown as text, not a formula
    assert all(row["graded"].startswith("sandboxed (bwrap); inputs seed ") for row in rows)


def test_no_cgroup_is_left_behind(hostile):
    for kind in sandbox.CONTROLLERS:  # pids, memory and cpu, where they could be made
        parent, _ = sandbox._cgroup_parent(kind)
        if parent is not None:
            assert not list(parent.glob(f"gan_lab_grading_{os.getpid()}_*")), kind
    assert not list(Path(sandbox.tempfile.gettempdir()).glob(
        f"gan_lab_grading_{os.getpid()}_*"))  # nor a work folder


def test_every_report_reads_inert_and_whole_and_tells_no_answer(hostile, tmp_path):
    """The class's feedback reports read as each student would: parsed, none holds an
    element, attribute or comment of its own, a link or a data: URL; every lost point's
    reason and every graded cell is there whole; and beside them (the student's code, the
    reasons, the check cell's lines on public inputs) the page holds no number at all."""
    import re
    from html.parser import HTMLParser

    from gan_lab.grading.feedback import report_name, write_reports

    class Page(HTMLParser):
        def __init__(self, text):
            super().__init__(convert_charrefs=True)
            self.tags, self.attributes, self.comments, self.text = set(), [], [], []
            self.pres, self._pre = [], None
            self.feed(text)
            self.close()

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)
            self.attributes += attrs
            self._pre = [] if tag == "pre" else self._pre
            self._page_own = tag in ("style", "title")  # the template's, not the student's

        _page_own = False

        def handle_endtag(self, tag):
            if tag == "pre" and self._pre is not None:
                self.pres.append("".join(self._pre))
                self._pre = None

        def handle_data(self, data):
            if self._page_own:
                self._page_own = False
                return
            self.text.append(data)
            if self._pre is not None:
                self._pre.append(data)

        def handle_comment(self, data):
            self.comments.append(data)

    write_reports(hostile["grading"], tmp_path)
    for grade in hostile["grading"].grades:
        page = Page((tmp_path / report_name(grade.student)).read_text())
        assert page.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2",
                             "h3", "p", "strong", "code", "pre"}, grade.student
        assert {name for name, _ in page.attributes} <= {"lang", "charset", "http-equiv",
                                                         "content", "class"}
        assert not any(re.search(r"(data|javascript|https?):", value or "")
                       for name, value in page.attributes if name != "content")
        assert page.comments == []
        text = "".join(page.text)
        for reason in grade.reasons.values():
            assert reason in text, (grade.student, reason)
            assert "line None" not in reason
        assert sorted(page.pres) == sorted(grade.cells.values()), grade.student
        rest = text
        for part in [*grade.cells.values(), *grade.reasons.values(),
                     *grade.self_checks.values()]:
            rest = rest.replace(part, "")
        assert not re.findall(r"\d+\.\d+", rest), (grade.student, rest)
    cut = hostile["grades"]["hank_escapes"].reasons["hinge_discriminator_loss"]
    assert "more characters of the error's text" in cut  # cut, and saying so
