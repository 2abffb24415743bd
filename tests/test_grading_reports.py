"""What an instructor gets from a grading besides the CSV: a feedback report a student (inert
HTML holding every reason whole, and no answer), the index, the class overview (counts equal
to the CSV's) and a regrade of one student (the other rows byte for byte)."""

import csv
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from gan_lab.cli import main
from gan_lab.grading import grader, inputs, notebooks, overview, probes
from gan_lab.grading.compare import compare
from gan_lab.grading.feedback import (csv_name, index_page, report_name, student_report)
from gan_lab.grading.grader import (Grading, GradingError, StudentGrade, update_csv,
                                    write_csv, write_results)

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import students  # noqa: E402

EXERCISES = [notebooks.ExerciseCell("scale_images", 2, "", "01_vanilla_gan.ipynb"),
             notebooks.ExerciseCell("build_generator", 3, "", "01_vanilla_gan.ipynb"),
             notebooks.ExerciseCell("slerp", 2, "", "05_dcgan_paper.ipynb")]

HOSTILE_CODE = ('def scale_images(x):\n    """</pre><script>alert(1)</script><pre>"""\n'
                '    # <!-- a comment --> <img src="data:image/png;base64,iVBORw0KGgo=">\n'
                '    # <iframe src="https://example.com"></iframe> <a href="javascript:x">\n'
                '    return x  # &lt;b&gt; & <b onmouseover="alert(2)">bold</b>\n')
HOSTILE_NAME = '<img src=x onerror="alert(3)">mallory'


class Page(HTMLParser):
    """Every element, attribute, comment and <pre> text of a page."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.comments, self.pres, self._pre = [], [], [], [], None
        self.text = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        self.text.append(data)
        if self._pre is not None:
            self._pre.append(data)

    def handle_comment(self, data):
        self.comments.append(data)


def _grade(student=HOSTILE_NAME, reasons=None, cells=None):
    reasons = {"build_generator": "trainable parameters: expected 1489424, got 1488400"} \
        if reasons is None else reasons
    points = {e.name: 0 if e.name in reasons else e.points for e in EXERCISES}
    return StudentGrade(student, points, reasons, ["01_vanilla_gan.ipynb"],
                        cells={"scale_images": HOSTILE_CODE, "build_generator": "x = 1"}
                        if cells is None else cells,
                        origins={"scale_images": 'final/<b>01</b>.ipynb',
                                 "build_generator": "01_vanilla_gan.ipynb"},
                        graded_at="2026-01-02T03:04:05+00:00")


def test_a_report_renders_the_students_text_inert():
    """Code with </pre><script>, an HTML comment, a data: URL and event handlers, a name and
    a file name that are HTML: no element, attribute or comment comes from them, and the
    code reads back exactly as written."""
    page = Page(student_report(EXERCISES, _grade()))
    assert not {"script", "iframe", "img", "object", "embed", "a", "b", "link"} & set(page.tags)
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "h2",
                              "h3", "p", "strong", "code", "pre"}
    assert {name for name, _ in page.attributes} <= {"lang", "charset", "http-equiv",
                                                     "content", "class"}
    assert not [value for _, value in page.attributes if "alert" in value or "data:" in value]
    assert page.comments == []
    assert page.pres == [HOSTILE_CODE, "x = 1"]  # the code as text, whole
    text = "".join(page.text)
    assert HOSTILE_NAME in text and "final/<b>01</b>.ipynb" in text


def test_a_report_holds_every_lost_points_reason_whole_per_lab():
    reason = "outputs: " + " ".join(f"word{i}" for i in range(2000))  # 15,000 characters
    grade = _grade("bob", {"build_generator": reason, "slerp": "no cell defines `slerp`"})
    text = "".join(Page(student_report(EXERCISES, grade)).text)
    assert reason in text and "no cell defines `slerp`" in text
    assert "Total: 2 / 7 points" in text
    assert "Lab 01_vanilla_gan: 2 / 5" in text and "Lab 05_dcgan_paper: 0 / 2" in text
    assert "build_generator: 0 / 3" in text and "scale_images: 2 / 2" in text
    assert "No cell was graded for this exercise." in text  # slerp


def test_a_report_tells_no_more_of_the_answers_than_its_reasons():
    """Every number of the reference that appears in a report appears in a reason too: the
    report holds the reasons, the student's code and points, never what was compared."""
    from test_grading import solution_namespace

    made = inputs.make("slerp", 3)
    reference = probes.run_probe(solution_namespace()["slerp"], made)
    observed = probes.run_probe(lambda a, b, t: np.outer(1 - np.asarray(t), a)
                                + np.outer(t, b), made)
    passed, reason = compare("slerp", observed, reference)
    assert not passed
    grade = _grade("carol", {"slerp": reason}, cells={"slerp": "def slerp(a, b, t): ..."})
    text = "".join(Page(student_report(EXERCISES, grade)).text)
    answers = {f"{value:.6g}" for entry in reference.values()
               for value in np.ravel(entry["value"]) if isinstance(value, float)}
    shown = set(re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text))
    assert shown & answers  # the reason names the expected value it differs from...
    assert shown & answers <= set(re.findall(r"-?\d+\.\d+(?:e-?\d+)?", reason))  # ...only


def test_report_names_are_safe_distinct_files_and_the_index_links_each():
    names = ["alice", HOSTILE_NAME, "../../etc/passwd", ".hidden", "index", "a b", "a_b"]
    files = [report_name(name) for name in names]
    assert len(set(files)) == len(files) and files[0] == "alice.html"
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.html", f) for f in files)
    assert "index.html" not in files
    rows = [{"student": grader._cell(name), "total": "1", "max": "7", "graded at": "t",
             "graded": "sandboxed (bwrap)"} for name in names + ["=1+2"]]
    page = Page(index_page(rows, regraded=[HOSTILE_NAME]))
    links = [value for name, value in page.attributes if name == "href"]
    assert links == [report_name(name) for name in names + ["=1+2"]]
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "h1", "p",
                              "table", "tr", "th", "td", "a"}
    assert f"Regraded in the last run: {HOSTILE_NAME}." in "".join(page.text)


def _grading(grades, seed=7):
    return Grading(EXERCISES, grades, seed, sandboxed=True, cgroups=("pids",))


def test_the_overview_counts_equal_the_csvs(tmp_path):
    grades = [_grade("alice", {}),
              _grade("=bob", {"build_generator": "trainable parameters: expected 1, got 2",
                              "slerp": "no cell defines `slerp`"}),
              _grade("carol", {"build_generator": "trainable parameters: expected 1, got 3 "
                                                  "| slerp: not really"}),
              _grade("dan", {"scale_images": "values for x: differs", "slerp":
                             "slerp points for y: differs | build_generator: fake"})]
    path = write_csv(_grading(grades), tmp_path / "grades.csv")
    rows = list(csv.DictReader(open(path, newline="")))
    summary = overview.summarize(rows, EXERCISES)
    assert summary.students == len(rows) == 4
    assert summary.totals == [int(row["total"]) for row in rows]
    for exercise, counted in zip(EXERCISES, summary.exercises):
        earned = sum(int(row[exercise.name]) == exercise.points for row in rows)
        assert counted.earned == earned
        assert sum(counted.reasons.values()) == len(rows) - earned
    by_name = {s.name: s for s in summary.exercises}
    assert by_name["build_generator"].reasons == {"trainable parameters": 2}
    assert by_name["slerp"].reasons == {"no cell defines `slerp`": 1, "slerp points for y": 1}
    page = overview.markdown(summary)
    assert re.search(r"\| build_generator +\| +3 \| +2 \| +2 \| 2 students: trainable parameters",
                     page)
    assert re.search(r"\| +7 \| +1 \|", page) and "median 3.5" in page
    picture = overview.write_overview(path, EXERCISES)[1]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_overview_counts_reasons_by_rule_whatever_the_place(tmp_path):
    """A batch norm missing after one layer or another is one rule: the instructor sees
    "3 students: missing batch normalisation", not a line a layer; a rule with a ': '
    inside its brackets is kept whole."""
    import copy

    layers = [["Dense 256", True, ["LeakyReLU(0.2)"]],
              ["Dense 512", True, ["BatchNormalization", "LeakyReLU(0.2)"]],
              ["Dense 1024", True, ["BatchNormalization", "LeakyReLU(0.2)"]],
              ["Dense 784", True, ["tanh"]]]
    reference = {"layers": {"what": "the layers with weights", "value": layers,
                            "judged": False},
                 "trainable parameters": {"what": "trainable parameters", "value": 1489424}}

    def without_batch_norm(index):
        found = copy.deepcopy(layers)
        found[index][2].remove("BatchNormalization")
        return {"layers": {"value": found}, "trainable parameters": {"value": 1489424 - index}}

    reasons = [compare("build_generator", without_batch_norm(i), reference)[1]
               for i in (1, 2, 1)]
    assert len({reason.split(" (")[0] for reason in reasons}) == 2  # two places
    radford = ("std of each kernel as built (Radford: N(0, 0.02)): expected about 0.02 each, "
               "got 0.0436")
    grades = [_grade(f"s{i}", {"build_generator": reason}) for i, reason in enumerate(reasons)]
    grades.append(_grade("s9", {"build_generator": radford}))
    path = write_csv(_grading(grades), tmp_path / "grades.csv")
    summary = overview.summarize(overview.read_rows(path), EXERCISES)
    by_name = {s.name: s for s in summary.exercises}
    assert by_name["build_generator"].reasons == {
        "missing batch normalisation": 3,
        "std of each kernel as built (Radford: N(0, 0.02))": 1}
    assert "3 students: missing batch normalisation; 1 student: std of each kernel" in \
        overview.markdown(summary)


def test_regrading_one_student_replaces_only_that_row(tmp_path):
    grades = [_grade(name, {"slerp": "x"}) for name in ("alice", "=bob", "carol\nsmith")]
    path = write_csv(_grading(grades), tmp_path / "grades.csv")
    before = path.read_bytes()
    again = _grade("=bob", {})
    again.graded_at = "2026-02-02T00:00:00+00:00"
    written = write_results(_grading([again, _grade("dave", {})], seed=9), path, update=True)
    assert written.replaced == ["'=bob"] and written.added == ["dave"]
    after = path.read_bytes()
    old, new = before.split(b"\r\n"), after.split(b"\r\n")
    assert new[0] == old[0]  # the header
    assert new[1] == old[1] and new[3] == old[3]  # alice, carol\nsmith: byte for byte
    assert new[2] != old[2] and b"seed 9" in new[2] and b"2026-02-02" in new[2]
    assert new[4].startswith(b"dave,") and len(new) == len(old) + 1
    index = (written.feedback / "index.html").read_text()
    assert "Regraded in the last run: =bob, dave." in index
    assert sorted(p.name for p in written.feedback.iterdir()) == sorted(
        ["index.html", report_name("=bob"), "dave.html"])
    assert [p.name for p in tmp_path.glob("grades_overview.*")] != []
    path.write_bytes(before.replace(b"alice", b"alicia"))  # still the grader's format
    update_csv(_grading([again]), path)
    path.write_text("student,other\r\n")
    with pytest.raises(GradingError, match="other columns"):
        update_csv(_grading([again]), path)


def test_only_without_update_never_replaces_a_class_csv(tmp_path, capsys):
    out = tmp_path / "grades.csv"
    out.write_text("the class's grades\n")
    assert main(["grade", str(tmp_path), "--only", "alice", "--out", str(out),
                 "--no-sandbox"]) == 2
    assert f"add --update {out}" in capsys.readouterr().err
    assert out.read_text() == "the class's grades\n"


def test_csv_names_come_back_as_given():
    for name in ("=SUM(A1)", "'quoted", "bob", " =1", "'=x"):
        assert csv_name(grader._cell(name)) == name


@pytest.mark.integration
def test_grade_then_regrade_one_student_from_the_command_line(tmp_path, capsys):
    """`grade CLASS --out grades.csv` writes the CSV, a report each, the index and the
    overview; `grade CLASS --only ivan --update grades.csv` regrades ivan alone."""
    students.write_student(tmp_path / "class" / "ivan", books=("05",))
    students.write_student(tmp_path / "class" / "judy", books=("05",),
                           replace={"slerp": students.BUGS["lerp_for_slerp"][2]})
    out = tmp_path / "grades.csv"
    common = ["--lab", "05", "--no-sandbox", "--timeout", "60"]
    assert main(["grade", str(tmp_path / "class"), "--out", str(out), *common]) == 0
    shown = capsys.readouterr().out
    assert "Feedback reports: " in shown and "Class overview: " in shown
    reports = tmp_path / "grades_feedback"
    assert sorted(p.name for p in reports.iterdir()) == ["index.html", "ivan.html", "judy.html"]
    judy = "".join(Page((reports / "judy.html").read_text()).text)
    assert "slerp: 0 / 2" in judy and "Why: slerp points for" in judy
    before = out.read_bytes().split(b"\r\n")
    (reports / "judy.html").unlink()
    assert main(["grade", str(tmp_path / "class"), "--only", "ivan", "--update", str(out),
                 *common]) == 0
    assert "rows replaced: 1, added: 0" in capsys.readouterr().out
    after = out.read_bytes().split(b"\r\n")
    assert after[0] == before[0] and after[2] == before[2]  # the header; judy's row
    assert after[1] != before[1] and after[1].startswith(b"ivan,2,2,4,4,")
    assert not (reports / "judy.html").exists()  # only ivan's report was written again
    assert main(["grade", str(tmp_path / "class"), "--only", "nobody", "--update", str(out),
                 *common]) == 2
    assert "no student 'nobody'" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "class"), "--only", "ivan", "--update",
                 str(out), "--lab", "01", "--no-sandbox"]) == 2
    assert "other columns" in capsys.readouterr().err


def test_a_folder_name_that_is_not_utf8_cannot_stop_the_class_being_written(tmp_path):
    # A student folder named in another encoding reaches Python as surrogates; every file
    # the grader writes (CSV, reports, overview) goes through files.write_text, which once
    # failed on them after the whole class was graded, leaving no results at all.
    from gan_lab import files

    name = os.fsdecode(b"bad\xff\xfe_name")
    written = files.write_text(tmp_path / "grades.csv", f"student\r\n{name}\r\n", newline="")
    assert written.read_bytes() == b"student\r\nbad\\udcff\\udcfe_name\r\n"


@pytest.mark.integration
def test_each_report_says_what_the_check_cell_would_have_said(tmp_path):
    """Each exercise that ran says what the student's own check cell (the self-check's
    public inputs, the same rules) would have said: a pass, or its first difference; for a
    network measured in a fresh process too."""
    from test_grading import solution_namespace

    from gan_lab.grading.sandbox import Limits

    solution = solution_namespace()
    names = ("build_discriminator", "slerp", "pool_to_grid")
    exercises = [e for e in grader.solution_exercises(students.SOLUTIONS, ["01", "05"])
                 if e.name in names]
    made = {name: inputs.make(name, 3) for name in names}
    reference = {name: probes.run_probe(solution[name], made[name]) for name in names}
    students.write_student(tmp_path, {"slerp": students.BUGS["lerp_for_slerp"][2],
                                      "build_discriminator": students.BUGS["no_dropout"][2]},
                           books=("01", "05"))
    books = sorted(tmp_path.glob("*.ipynb"))
    grade = grader._grade_student("sam", grader.Submission(books), exercises, reference, 3,
                                  Limits(exercise_seconds=120, student_seconds=600), False,
                                  (), made)
    said = grade.self_checks
    assert said["pool_to_grid"].startswith("pool_to_grid: all ") and \
        said["pool_to_grid"].endswith(" checks pass"), said
    assert said["slerp"].startswith("slerp: slerp points for "), said
    assert "linear instead of spherical interpolation" in said["slerp"]
    assert said["build_discriminator"].startswith(
        "build_discriminator: dropout rates in training mode"), said
    text = "".join(Page(student_report(exercises, grade)).text)
    for name in names:
        assert f"would have said: {said[name]}" in text
