"""The grading machinery without a sandbox: release, self-checks, finding submissions and
their cells, inputs, comparison, the runner's channel, the CSV and the grade command's
refusal and --no-sandbox. The hostile class graded in sandboxes: tests/grading."""

import csv
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from gan_lab.cli import main
from gan_lab.grading import CheckFailed, SELF_CHECK_FILE, check, inputs, notebooks, probes, sandbox
from gan_lab.grading.compare import compare
from gan_lab.grading import grader
from gan_lab.grading.grader import (Grading, StudentGrade, _student_cells, discover,
                                    lab_names, reference_observations, run_cells, write_csv)
from gan_lab.grading.sandbox import Limits

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import students  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, LABS = ROOT / "solutions", ROOT / "labs"


def test_labs_are_exactly_what_release_writes():
    assert notebooks.release(SOLUTIONS, LABS, check=True) == [], \
        "labs/ is out of date: run python -m gan_lab release"


@pytest.mark.parametrize("folder", [SOLUTIONS, LABS])
def test_notebooks_are_committed_without_outputs(folder):
    for path in folder.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def test_every_notebook_opens_with_a_parameters_cell():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        code_cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        assert "parameters" in code_cells[0].metadata.get("tags", []), path.name
        # Labs 1 and 2 choose from the device (None: the course run on a GPU, a budget on a
        # CPU); Lab 3's course run is 100 epochs; Lab 4's presets set their own budget; Lab
        # 5's experiments are measured on a DCGAN of 20 epochs.
        epochs = {"01": "EPOCHS = None", "02": "EPOCHS = None", "03": "EPOCHS = 100",
                  "04": "EPOCHS = None", "05": "EPOCHS = 20"}[path.name[:2]]
        assert epochs in code_cells[0].source, path.name
        assert "RESUME = False" in code_cells[0].source, path.name


def test_release_stubs_every_solution_and_keeps_the_rest():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        solution = nbformat.read(path, as_version=4)
        lab = nbformat.read(LABS / path.name, as_version=4)
        assert len(solution.cells) == len(lab.cells)
        for ours, theirs in zip(solution.cells, lab.cells):
            name = ours.metadata.get("gan_lab", {}).get("exercise")
            if name:
                assert notebooks.BEGIN in ours.source and notebooks.BEGIN not in theirs.source
                assert f'raise NotImplementedError("{name}: write this exercise")' in theirs.source
                assert "# YOUR CODE HERE" in theirs.source
                assert theirs.source.splitlines()[0] == ours.source.splitlines()[0]  # signature
                assert theirs.metadata["gan_lab"] == ours.metadata["gan_lab"]
            else:
                assert theirs.source == ours.source


def test_strip_solution_keeps_indentation_and_code_around():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    assert notebooks.strip_solution(source, "f") == (
        'def f(x):\n    y = 1\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("f: write this exercise")')


def solution_namespace():
    """Every solution exercise cell executed in one namespace, as in the notebook."""
    namespace = {}
    exec("import numpy as np\nimport tensorflow as tf\nimport keras\nfrom keras import layers, ops",
         namespace)
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in notebooks.exercise_cells(notebooks.read(path)):
            exec(cell.source, namespace)
    return namespace


@pytest.mark.integration
def test_self_checks_pass_on_the_solutions():
    namespace = solution_namespace()
    names = json.loads(SELF_CHECK_FILE.read_text())
    for name in names:
        assert "checks pass" in check(name, namespace[name])


def test_self_checks_say_what_is_wrong():
    namespace = solution_namespace()
    with pytest.raises(CheckFailed, match=r"output shape for random digits .*expected \[5, 28, 28, 1\]"):
        check("scale_images", lambda pixels: namespace["scale_images"](pixels)[..., 0])
    with pytest.raises(CheckFailed, match="opposite sign"):
        check("generator_loss_minimax", lambda logits: -namespace["generator_loss_minimax"](logits))
    np = namespace["np"]

    def naive_loss(real, fake):  # log(sigmoid(x)) by hand: log(0) for large logits
        return -(np.log(1 / (1 + np.exp(-real))).mean() + np.log(1 - 1 / (1 + np.exp(-fake))).mean())

    with pytest.raises(CheckFailed, match="inf/nan on large logits"), np.errstate(all="ignore"):
        check("discriminator_loss", naive_loss)

    def not_done(*args):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("train_step", not_done)


@pytest.mark.integration
def test_stored_self_check_reference_matches_the_solutions():
    _, fresh = reference_observations(SOLUTIONS, seed=0, sandboxed=False)
    stored = json.loads(SELF_CHECK_FILE.read_text())
    assert sorted(fresh) == sorted(stored)
    for name in stored:
        assert compare(name, fresh[name], stored[name]) == (True, ""), name


# --- finding submissions and their cells (no sandbox needed) ------------------------------------


def _book(path, cells):
    notebook = nbformat.v4.new_notebook()
    for source, exercise in cells:
        cell = nbformat.v4.new_code_cell(source)
        if exercise:
            cell.metadata["gan_lab"] = {"exercise": exercise, "points": 1}
        notebook.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


LABS_NAMES = lab_names(SOLUTIONS)


def test_every_submission_gets_a_row_whatever_its_layout(tmp_path):
    klass = tmp_path / "class"
    _book(klass / "alice" / "01_vanilla_gan.ipynb", [])
    _book(klass / "heidi" / "submission" / "final" / "01_vanilla_gan.ipynb", [])
    _book(klass / "heidi" / ".ipynb_checkpoints" / "01_vanilla_gan-checkpoint.ipynb", [])
    (klass / "judy").mkdir()
    _book(klass / "ivan.ipynb", [])
    _book(klass / "alice.ipynb", [])  # same name as a folder: both kept, each named
    (klass / "leo").symlink_to(SOLUTIONS)
    (klass / "notes.txt").write_text("not a submission")
    _book(klass / "__bob" / "01_vanilla_gan.ipynb", [])  # odd names are still students
    _book(klass / ".carol" / "01_vanilla_gan.ipynb", [])
    _book(klass / ".ipynb_checkpoints" / "ivan-checkpoint.ipynb", [])  # tools' state is not
    (klass / "__pycache__").mkdir()
    found = discover([klass], LABS_NAMES)
    assert sorted(found) == [".carol", "__bob", "alice (alice.ipynb)", "alice (alice/)",
                             "heidi", "ivan", "judy", "leo"]
    assert [p.name for p in found["heidi"].books] == ["01_vanilla_gan.ipynb"]
    assert [p.name for p in found["alice (alice.ipynb)"].books] == ["alice.ipynb"]
    assert found["judy"].problem == "no notebooks found"
    assert "link" in found["leo"].problem
    assert list(discover([klass / "ivan.ipynb"], LABS_NAMES)) == ["ivan"]  # its file's name
    assert list(discover([SOLUTIONS], LABS_NAMES)) == ["solutions"]  # a student's folder


def test_a_folder_of_loose_notebooks_is_a_class_unless_they_are_the_labs(tmp_path):
    """alice.ipynb, bob.ipynb, carol.ipynb: three students, not one named after the folder;
    a folder of the labs' notebooks (or copies of them) is one student's."""
    klass = tmp_path / "class"
    for name in ("alice", "bob", "carol"):
        _book(klass / f"{name}.ipynb", [])
    assert sorted(discover([klass], LABS_NAMES)) == ["alice", "bob", "carol"]
    kim = tmp_path / "kim"
    _book(kim / "01_vanilla_gan-Copy1.ipynb", [])
    _book(kim / "scratch.ipynb", [])
    found = discover([kim], LABS_NAMES)
    assert list(found) == ["kim"] and len(found["kim"].books) == 2


def test_no_student_takes_another_entrys_name(tmp_path):
    """dup/, dup.ipynb and a folder really named dup~2: each row says whose it is."""
    klass = tmp_path / "class"
    _book(klass / "dup" / "01_vanilla_gan.ipynb", [])
    _book(klass / "dup.ipynb", [])
    _book(klass / "dup~2" / "02_dcgan.ipynb", [])
    _book(klass / "dup (dup.ipynb)" / "02_dcgan.ipynb", [])  # a name like a disambiguation
    found = discover([klass], LABS_NAMES)
    assert len(found) == 4
    assert [p.name for p in found["dup~2"].books] == ["02_dcgan.ipynb"]
    assert found["dup (dup.ipynb)"].books[0].parent.name == "dup (dup.ipynb)"
    assert found["dup (dup/)"].books[0].parent.name == "dup"
    loose = [name for name in found if name.startswith("dup (dup.ipynb) ")]
    assert [p.name for p in found[loose[0]].books] == ["dup.ipynb"]


@pytest.mark.parametrize("layout", ["copy_beside_the_lab", "draft_and_final"])
def test_the_answer_in_a_copy_is_graded_not_the_untouched_lab_beside_it(tmp_path, layout):
    """Work done in 01_vanilla_gan-Copy1.ipynb (or final/) beside the lab as released."""
    exercise = next(e for e in grader.solution_exercises(SOLUTIONS) if e.name == "scale_images")
    stub = notebooks.strip_solution(exercise.source, exercise.name)
    answer = "def scale_images(pixels):\n    return 'answer'"
    untouched, worked = {"copy_beside_the_lab": ("01_vanilla_gan.ipynb",
                                                  "01_vanilla_gan-Copy1.ipynb"),
                         "draft_and_final": ("draft/01_vanilla_gan.ipynb",
                                             "final/01_vanilla_gan.ipynb")}[layout]
    books = [_book(tmp_path / untouched, [(stub, "scale_images")]),
             _book(tmp_path / worked, [(answer, "scale_images")])]
    for order in (books, books[::-1]):
        cells, reasons, origins = _student_cells([exercise], order)
        assert reasons == {} and "return 'answer'" in dict(cells)["scale_images"]
        assert origins["scale_images"] == books[1]  # and the CSV says which file it was
    # with no answer anywhere, the stub is graded (and loses as not implemented)
    cells, _, _ = _student_cells([exercise], books[:1])
    assert "NotImplementedError" in dict(cells)["scale_images"]


@pytest.mark.parametrize("error", ["", "   ", "\n\t"])
def test_an_error_without_words_still_loses_its_exercise(monkeypatch, error):
    """Points come only from the grader's comparison: a reply {"error": ""} (written by the
    student's code into the reply pipe, or a runner error raised with a blank message)
    scores 0 with a reason, never full marks."""
    exercises = [e for e in grader.solution_exercises(SOLUTIONS) if e.notebook.startswith("05")]
    monkeypatch.setattr(grader, "run_cells", lambda cells, *a, **k: {
        name: {"error": error} for name, _ in cells})
    submission = grader.Submission([SOLUTIONS / "05_dcgan_paper.ipynb"])
    result = grader._grade_student("eve", submission, exercises, {}, 1, Limits(), False, (), {})
    assert result.total == 0
    assert all(result.reasons[e.name] == grader.NO_REASON for e in exercises)


def test_the_grade_summary_shows_names_as_text_not_terminal_codes(tmp_path, capsys,
                                                                   monkeypatch):
    name = "mallory\x1b[2J\nfake   30/30   lost: -"
    grading = Grading([notebooks.ExerciseCell("slerp", 2, "", "05_dcgan_paper.ipynb")],
                      [StudentGrade(name, {"slerp": 0}, {"slerp": "x"})], 1, True)
    monkeypatch.setattr(grader, "grade", lambda *args, **kwargs: grading)
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "g.csv")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\nfake" not in out
    assert "mallory\\x1b[2J\\nfake" in out
    row = next(csv.DictReader(open(tmp_path / "g.csv", newline="")))
    assert row["student"] == name  # the CSV keeps the name as it is


def test_the_last_definition_wins_and_self_checks_in_a_cell_are_ignored(tmp_path):
    exercises = [notebooks.ExerciseCell("slerp", 2, "", "05_dcgan_paper.ipynb"),
                 notebooks.ExerciseCell("pool_to_grid", 2, "", "05_dcgan_paper.ipynb")]
    book = _book(tmp_path / "05_dcgan_paper.ipynb", [
        ("def slerp(z0, z1, t):\n    raise NotImplementedError", "slerp"),
        ("def slerp(z0, z1, t):\n    return 'answer'\n\nimport gan_lab\n"
         "gan_lab.check('slerp', slerp)", None),  # pasted below, metadata lost
        ("from gan_lab import check\ndef pool_to_grid(m, grid=4):\n    return m\n"
         "check('pool_to_grid', pool_to_grid)", "pool_to_grid"),
    ])
    cells, reasons, _ = _student_cells(exercises, [book])
    assert reasons == {}
    sources = dict(cells)
    assert "return 'answer'" in sources["slerp"] and "gan_lab" not in sources["slerp"]
    assert "check" not in sources["pool_to_grid"] and "return m" in sources["pool_to_grid"]
    cheat = _book(tmp_path / "x" / "05_dcgan_paper.ipynb", [
        ("from gan_lab.latent import slerp", "slerp")])
    _, reasons, _ = _student_cells(exercises[:1], [cheat])
    assert "uses gan_lab" in reasons["slerp"]


@pytest.mark.integration
def test_a_huge_notebook_is_refused_quickly_with_its_reason(tmp_path):
    """Finding a student's cells parses each cell at most once, only cells that name an
    exercise, and stops at CODE_CELLS / CODE_BYTES: a huge notebook stalls no one (one of
    2000 cells of 8 KiB took the grader 177 s an exercise before)."""
    exercises = [notebooks.ExerciseCell(name, 1, "", "01_vanilla_gan.ipynb")
                 for name in ("scale_images", "build_generator", "build_discriminator")]
    answer = ("def scale_images(x):\n    return x", None)
    names = "# " + " ".join(e.name for e in exercises) + "\n"
    cases = {"many": [answer] + [("a = 1\n" * 200, None)] * 2000,  # 2001 cells, 2.3 MiB
             "named": [answer] + [(names + "a = 1\n" * 4000, None)] * 12,  # ~290 KiB of code
             "small": [(names + "a = 1\n" * 2000, None)] * 10 + [answer]}
    for label, cells in cases.items():
        book = _book(tmp_path / label / "01_vanilla_gan.ipynb", cells)
        started = time.monotonic()
        found, reasons, _ = _student_cells(exercises, [book])
        assert time.monotonic() - started < 30, label
        if label == "small":
            assert [name for name, _ in found] == ["scale_images"]
            assert reasons["build_generator"].startswith("no cell defines `build_generator`")
        else:
            assert found == []
            assert "not read: the notebooks hold more than 1000 code cells or 256 KiB" \
                in reasons["scale_images"]
    calls = []
    original = notebooks.parse
    try:
        notebooks.parse = lambda source: calls.append(1) or original(source)
        _student_cells(exercises, [tmp_path / "small" / "01_vanilla_gan.ipynb"])
    finally:
        notebooks.parse = original
    assert len(calls) == 11 + 2  # each cell once; then the chosen cell's self-check scans


def test_outputs_cost_nothing_a_notebook_with_a_50_mb_output_is_graded_in_full(tmp_path):
    """Notebooks are read for their code cells: a 50 MB image output under an exercise (and
    a markdown cell with an inlined image) is parsed past, never kept, and the cells above
    and below it are found."""
    import base64
    import os

    exercises = [notebooks.ExerciseCell(name, 1, "", "01_vanilla_gan.ipynb")
                 for name in ("scale_images", "build_generator")]
    notebook = nbformat.v4.new_notebook()
    picture = base64.b64encode(os.urandom(37_500_000)).decode()  # 50 MB of base64
    first = nbformat.v4.new_code_cell("def scale_images(x):\n    return x")
    first.metadata["gan_lab"] = {"exercise": "scale_images", "points": 1}
    first.outputs = [nbformat.v4.new_output("display_data", {"image/png": picture})]
    notebook.cells = [first, nbformat.v4.new_markdown_cell(f"![](data:image/png;base64,{picture[:1000]})"),
                      nbformat.v4.new_code_cell(["def build_generator():\n", "    return 1"])]
    book = tmp_path / "01_vanilla_gan.ipynb"
    book.write_text(json.dumps(notebook))  # nbformat.write would validate 50 MB
    assert book.stat().st_size > 50_000_000
    started = time.monotonic()
    cells, reasons, _ = _student_cells(exercises, [book])
    assert time.monotonic() - started < 20
    assert reasons == {}
    assert dict(cells) == {"scale_images": "def scale_images(x):\n    return x",
                           "build_generator": "def build_generator():\n    return 1"}
    read = notebooks.read_submission(book)
    assert all("outputs" not in cell for cell in read.cells)
    assert read.cells[1]["source"] is None  # markdown is not code


@pytest.mark.parametrize("text, reason", [
    ("not json at all", "not a notebook (IncompleteJSONError)"),
    ("[" * 100000 + "]" * 100000, "nested too deep to read"),
    ('{"cells": 5, "nbformat": 4}', "not a notebook (no cells"),
    ('[{"cells": []}]', "not a notebook (no cells"),
    ('{"cells": [{"cell_type": "code", "source": "x = 1"}', "not a notebook (IncompleteJSONError)"),
])
def test_a_notebook_that_cannot_be_read_keeps_its_reason(tmp_path, text, reason):
    book = tmp_path / "01_vanilla_gan.ipynb"
    book.write_text(text)
    with pytest.raises(ValueError) as error:
        notebooks.read_submission(book)
    assert str(error.value).startswith(reason)
    exercises = [notebooks.ExerciseCell("scale_images", 1, "", "01_vanilla_gan.ipynb")]
    _, reasons, _ = _student_cells(exercises, [book])
    assert reasons["scale_images"] == f"01_vanilla_gan.ipynb cannot be read as a notebook ({error.value})"


# --- correct answers in any style: judged by behaviour ----------------------------------------

STYLES = """
class Leaky(layers.Layer):  # LeakyReLU(0.2) of one's own: weightless, no Keras activation
    def call(self, x):
        return ops.maximum(x, 0.2 * x)


class Generator(keras.Model):  # layers made in another order than they are called
    def __init__(self, latent_dim, leaky=Leaky):
        super().__init__()
        self.norms = [layers.BatchNormalization(momentum=0.9) for _ in range(2)]
        self.hidden = [layers.Dense(units) for units in (256, 512, 1024)]
        self.out = layers.Dense(28 * 28, activation="tanh")
        self.leaky = leaky()

    def call(self, z, training=False):
        h = self.leaky(self.hidden[0](z))
        for dense, norm in zip(self.hidden[1:], self.norms):
            h = self.leaky(norm(dense(h), training=training))
        return ops.reshape(self.out(h), (-1, 28, 28, 1))


def build_generator(latent_dim=100):
    return Generator(latent_dim)


def build_generator_keras_leaky(latent_dim=100):  # the weights' order alone
    return Generator(latent_dim, lambda: layers.LeakyReLU(0.2))


class Discriminator(keras.Model):  # dropout called in call(), no Dropout layer
    def __init__(self):
        super().__init__()
        self.hidden = [layers.Dense(units) for units in (1024, 512, 256)]
        self.out = layers.Dense(1)
        self.generator = keras.random.SeedGenerator(1)

    def call(self, x, training=False):
        h = ops.reshape(x, (-1, 28 * 28))
        for dense in self.hidden:
            h = ops.leaky_relu(dense(h), 0.2)
            if training:
                h = keras.random.dropout(h, 0.3, seed=self.generator)
        return self.out(h)


def build_discriminator():
    return Discriminator()
"""


@pytest.mark.parametrize("name, builder", [
    ("build_generator", "build_generator"), ("build_generator", "build_generator_keras_leaky"),
    ("build_discriminator", "build_discriminator")])
def test_weights_follow_the_call_order_and_own_layers_and_dropout_calls_count(name, builder):
    """A subclassed model whose layers are made in another order than called, a LeakyReLU
    written as a layer class of one's own, dropout by keras.random.dropout in call(): all
    correct, all full marks (each cost the exercise before)."""
    from gan_lab.grading import probes

    solution = solution_namespace()
    student = {}
    exec("import numpy as np\nimport keras\nfrom keras import layers, ops\n" + STYLES, student)
    made = inputs.make(name, 5)
    reference = probes.run_probe(solution[name], made)
    observed = probes.run_probe(student[builder], made)
    assert compare(name, observed, reference) == (True, "")


def test_the_steps_losses_are_injected_whatever_callable_the_step_is():
    """A training step given as a function, a functools.partial, an object with __call__,
    a bound method or a decorated function gets the probe's losses (a NameError before)."""
    from gan_lab.grading import probes

    namespace = {}
    exec("import functools\n"
         "def step(a, b=1):\n    return discriminator_loss\n"
         "class Step:\n    def __call__(self, a):\n        return discriminator_loss\n"
         "def decorate(f):\n    @functools.wraps(f)\n"
         "    def wrapper(*args):\n        return f(*args)\n    return wrapper\n",
         namespace)
    step = namespace["step"]
    for function in (step, functools.partial(step, b=2), namespace["Step"](),
                     namespace["Step"]().__call__, namespace["decorate"](step)):
        with probes.losses_injected(function, {"discriminator_loss": "probe's"}):
            assert function(1) == "probe's", function
    assert "discriminator_loss" not in namespace  # restored afterwards


# --- Lab 4's remedies: the gradient penalty's probe and the hinge loss ---------------------------

PENALTY_PRELUDE = "import numpy as np\nimport tensorflow as tf\nimport keras\nfrom keras import ops\n"
PENALTY_MISTAKES = {  # body after the def line -> a phrase the reason must hold
    "one norm over the whole batch": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    return tf.square(tf.norm(tape.gradient(scores, x_hat)) - 1)
""", "one norm over the whole batch"),
    "squared norm": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    squares = tf.reduce_sum(tf.square(tape.gradient(scores, x_hat)), axis=[1, 2, 3])
    return tf.reduce_mean(tf.square(squares - 1))
""", "the squared norm"),
    "no - 1": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    return tf.reduce_mean(tf.reduce_sum(tf.square(tape.gradient(scores, x_hat)), axis=[1, 2, 3]))
""", "the '- 1' is missing"),
    "one-sided": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    return tf.reduce_mean(tf.square(tf.nn.relu(norms - 1)))
""", "one-sided"),
    "norm per channel": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tape.gradient(scores, x_hat), axis=[1, 2])
    return tf.reduce_mean(tf.square(norms - 1))
""", "a conv critic"),
    "lambda included": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    return 10.0 * tf.reduce_mean(tf.square(norms - 1))
""", "lambda is not part of it"),
    "one alpha for the batch": ("""
    x_hat = alpha[0] * real + (1 - alpha[0]) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    return tf.reduce_mean(tf.square(norms - 1))
""", "one number per image"),
    "alpha reshaped to (N, 1)": ("""
    alpha = tf.reshape(alpha, (-1, 1))
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    return tf.reduce_mean(tf.square(norms - 1))
""", "Incompatible shapes"),
    "real and fake swapped": ("""
    x_hat = alpha * fake + (1 - alpha) * real
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    return tf.reduce_mean(tf.square(norms - 1))
""", "real and fake swapped"),
    "gradient at the real images": ("""
    with tf.GradientTape() as tape:
        tape.watch(real)
        scores = critic(real)
    norms = tf.norm(tf.reshape(tape.gradient(scores, real), (len(real), -1)), axis=1)
    return tf.reduce_mean(tf.square(norms - 1))
""", "taken at the real images"),
    "gradient with respect to real through x_hat": ("""
    with tf.GradientTape() as tape:
        tape.watch(real)
        x_hat = alpha * real + (1 - alpha) * fake
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, real), (len(real), -1)), axis=1)
    return tf.reduce_mean(tf.square(norms - 1))
""", "a zero gradient at alpha 0"),
    "computed in numpy": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    gradients = tape.gradient(scores, x_hat).numpy()
    norms = np.sqrt(np.sum(gradients ** 2, axis=(1, 2, 3)))
    return np.float32(np.mean((norms - 1) ** 2))
""", "with respect to the critic's weights"),
    "a tensor at batch 8 only, else a float": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    penalty = tf.reduce_mean(tf.square(norms - 1))
    return penalty if len(real) == 8 else float(penalty.numpy())
""", "with respect to the critic's weights"),
    "per image, not averaged": ("""
    x_hat = alpha * real + (1 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    norms = tf.norm(tf.reshape(tape.gradient(scores, x_hat), (len(real), -1)), axis=1)
    return tf.square(norms - 1)
""", "shape of the penalty"),
}

# phrases that name where a mistake shows, not a hint
PLACES = ("a linear critic", "a conv critic", "Incompatible shapes", "shape of the penalty",
          "with respect to the critic's weights")


def _judged(name, source, made, reference):
    """What the grader would say of ``source`` on ``made``: (passed, reason); an exception
    the code raises is the reason, as the runner reports it."""
    from gan_lab.grading import probes

    namespace = {}
    exec(PENALTY_PRELUDE + source, namespace)
    try:
        observations = probes.run_probe(namespace[name], made)
    except Exception as error:  # noqa: BLE001
        return False, f"{type(error).__name__}: {error}"
    return compare(name, observations, reference)


def test_the_penalty_probe_agrees_with_the_library_and_the_linear_critic_by_hand():
    from gan_lab import losses
    from gan_lab.grading import probes

    solution = solution_namespace()["gradient_penalty"]
    for seed in (inputs.SELF_CHECK_SEED, 7):
        made = inputs.make("gradient_penalty", seed)
        ours = probes.run_probe(solution, made)
        library = probes.run_probe(losses.gradient_penalty, made)
        assert compare("gradient_penalty", library, ours) == (True, "")
        linear = [entry for entry in ours.values() if "norm" in entry]
        assert len(linear) == 2 and min(e["norm"] for e in linear) < 1 < max(e["norm"] for e in linear)
        for entry in linear:
            assert entry["batch"] >= 2
            assert entry["value"] == pytest.approx((entry["norm"] - 1) ** 2, rel=1e-5)
        gradients = [entry for key, entry in ours.items() if key.endswith("weight gradients")]
        assert len(gradients) == len(made["cases"])  # every case, not only the last
        assert all(any(abs(v) > 1e-3 for v in entry["value"]) for entry in gradients)


@pytest.mark.integration
@pytest.mark.parametrize("mistake", list(PENALTY_MISTAKES))
def test_each_usual_penalty_mistake_loses_with_its_reason(mistake):
    body, phrase = PENALTY_MISTAKES[mistake]
    source = "def gradient_penalty(critic, real, fake, alpha):" + body
    solution = solution_namespace()["gradient_penalty"]
    from gan_lab.grading import probes

    for seed in (inputs.SELF_CHECK_SEED, 3):  # the self-check and a graded run
        made = inputs.make("gradient_penalty", seed)
        passed, reason = _judged("gradient_penalty", source, made,
                                 probes.run_probe(solution, made))
        assert not passed and phrase in reason, (seed, reason)
        hints = [p for m, (_, p) in PENALTY_MISTAKES.items()
                 if p != phrase and p not in PLACES]
        assert not any(hint in reason for hint in hints), (seed, reason)  # no wrong hint


def test_a_hinge_loss_without_its_relu_or_on_probabilities_loses():
    from gan_lab import losses
    from gan_lab.grading import probes

    solution = solution_namespace()["hinge_discriminator_loss"]
    made = inputs.make("hinge_discriminator_loss", 3)
    reference = probes.run_probe(solution, made)
    assert compare("hinge_discriminator_loss",
                   probes.run_probe(losses.hinge_discriminator_loss, made), reference) == (True, "")
    for source, phrase in [
        ("return ops.mean(1 - real) + ops.mean(1 + fake)", "beyond +-1"),
        ("return ops.relu(1 - ops.mean(real)) + ops.relu(1 + ops.mean(fake))", "beyond +-1"),
        ("return ops.mean(ops.relu(1 - ops.sigmoid(real))) + ops.mean(ops.relu(1 + ops.sigmoid(fake)))",
         "beyond +-1"),
        ("return -(ops.mean(ops.relu(1 - real)) + ops.mean(ops.relu(1 + fake)))", "opposite sign"),
        # what a breaker found passing before the probe followed gradients and far scores
        ("return float(np.mean(np.maximum(0, 1 - np.asarray(real)))"
         " + np.mean(np.maximum(0, 1 + np.asarray(fake))))", "with respect to its inputs"),
        ("return tf.stop_gradient(ops.mean(ops.relu(1 - real)) + ops.mean(ops.relu(1 + fake)))",
         "with respect to its inputs"),
        ("return ops.mean(ops.clip(1 - real, 0, 8)) + ops.mean(ops.clip(1 + fake, 0, 8))",
         "far beyond the margins"),
        ("return (ops.mean(ops.relu(1 - real), keepdims=True)"
         " + ops.mean(ops.relu(1 + fake), keepdims=True))", "shape of hinge_discriminator_loss"),
    ]:
        passed, reason = _judged("hinge_discriminator_loss",
                                 f"def hinge_discriminator_loss(real, fake):\n    {source}\n",
                                 made, reference)
        assert not passed and phrase in reason, (source, reason)


def test_a_penalty_that_assumes_the_image_size_loses():
    from gan_lab.grading import probes

    source = """def gradient_penalty(critic, real, fake, alpha):
    x_hat = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = critic(x_hat)
    g = tape.gradient(scores, x_hat)
    flat = tf.reshape(g, (-1, 8 * 8 * g.shape[-1]))
    return tf.reduce_mean(tf.square(tf.norm(flat, axis=1) - 1.0))
"""
    solution = solution_namespace()["gradient_penalty"]
    for seed in (inputs.SELF_CHECK_SEED, 3):
        made = inputs.make("gradient_penalty", seed)
        passed, reason = _judged("gradient_penalty", source, made,
                                 probes.run_probe(solution, made))
        assert not passed, (seed, reason)


# --- Lab 4's 2-D measures: the solutions against the library ----------------------------------


def test_the_coverage_and_packing_solutions_agree_with_the_library():
    """The reference the grader compares students with is the solution: on every case of a
    self-check and of graded runs it equals ``mixtures.coverage`` and ``GAN.packed``."""
    from types import SimpleNamespace

    from gan_lab import mixtures
    from gan_lab.gan import GAN

    namespace = solution_namespace()
    tf = namespace["tf"]
    for seed in (inputs.SELF_CHECK_SEED, 3, 12345):
        for label, (points, means, std) in inputs.make("mode_coverage", seed)["cases"].items():
            modes, quality = namespace["mode_coverage"](points, means, std)
            library = mixtures.coverage(points, mixtures.Mixture("case", means, std))
            assert (modes, quality) == (library["modes"], pytest.approx(library["high_quality"])), label
        for label, (samples, m) in inputs.make("pack_samples", seed)["cases"].items():
            packed = np.asarray(GAN.packed(SimpleNamespace(pack=m), tf.constant(samples)))
            assert np.array_equal(namespace["pack_samples"](samples, m), packed), label
    cases = inputs.make("mode_coverage", 3)["cases"]  # each case aimed at its rule
    measured = {label: namespace["mode_coverage"](*case) for label, case in cases.items()}
    assert [m for label, m in measured.items() if "all within 1 std" in label] == [(1, 1.0)]
    assert [m for label, m in measured.items() if "between ring modes" in label] == [(0, 0.0)]
    assert [m for label, m in measured.items() if "grid's edges" in label] == [(16, 0.5)]


# Off by one at a threshold (a comparison that includes or excludes the edge), in the
# exercises whose answer changes there: each must lose on every seed, with the rule.
OFF_BY_ONE = {
    "< for <= at 3 std": ("mode_coverage", """
    d = np.linalg.norm(np.asarray(points)[:, None] - np.asarray(means)[None], axis=-1)
    good = d.min(1) < 3 * std
    return len(np.unique(d.argmin(1)[good])), float(good.mean())
""", "one exactly 3 * std away counts (<=, not <)"),
    "> 1 for >= 1 high-quality point": ("mode_coverage", """
    d = np.linalg.norm(np.asarray(points)[:, None] - np.asarray(means)[None], axis=-1)
    good = d.min(1) <= 3 * std
    counts = np.bincount(d.argmin(1)[good], minlength=len(means))
    return int((counts > 1).sum()), float(good.mean())
""", "at least one: >= 1, not > 1"),
}
# The same rules computed other ways (squares, a ratio, float32 tensors): the threshold
# cases are exact in any of them, so these keep their points.
AT_THE_THRESHOLD_RIGHT = {
    "squares": """
    d2 = ((np.asarray(points)[:, None] - np.asarray(means)[None]) ** 2).sum(-1)
    good = d2.min(1) <= 9 * std ** 2
    return len(np.unique(d2.argmin(1)[good])), float(good.mean())
""",
    "a ratio": """
    d = np.linalg.norm(np.asarray(points)[:, None] - np.asarray(means)[None], axis=-1)
    good = d.min(1) / std <= 3
    return len(set(d.argmin(1)[good].tolist())), float(np.sum(good) / len(good))
""",
    "float32 tensors": """
    p, m = tf.constant(points, tf.float32), tf.constant(means, tf.float32)
    d = tf.norm(p[:, None] - m[None], axis=-1)
    good = tf.reduce_min(d, 1) <= 3 * tf.constant(std, tf.float32)
    covered = tf.unique(tf.boolean_mask(tf.argmin(d, 1), good))[0]
    return int(tf.size(covered)), float(tf.reduce_mean(tf.cast(good, tf.float64)))
""",
}


@pytest.mark.parametrize("mistake", list(OFF_BY_ONE))
def test_an_off_by_one_at_a_threshold_loses_the_exercise_on_every_seed(mistake):
    name, body, hint = OFF_BY_ONE[mistake]
    source = f"def {name}(points, means, std):{body}"
    solution = solution_namespace()[name]
    for seed in (inputs.SELF_CHECK_SEED, 1, 3, 12345, 2**31 - 2):
        made = inputs.make(name, seed)
        passed, reason = _judged(name, source, made, probes.run_probe(solution, made))
        assert not passed, (seed, mistake)
        assert hint in reason, reason


@pytest.mark.parametrize("way", list(AT_THE_THRESHOLD_RIGHT))
def test_the_threshold_cases_are_exact_however_the_distance_is_computed(way):
    source = f"def mode_coverage(points, means, std):{AT_THE_THRESHOLD_RIGHT[way]}"
    solution = solution_namespace()["mode_coverage"]
    for seed in (inputs.SELF_CHECK_SEED, 1, 3, 12345, 2**31 - 2):
        made = inputs.make("mode_coverage", seed)
        assert _judged("mode_coverage", source, made,
                       probes.run_probe(solution, made)) == (True, ""), (seed, way)


# --- inputs and comparison ------------------------------------------------------------------------


def _cases(made):
    cases = made.get("cases")
    if isinstance(cases, dict):
        return cases
    if isinstance(cases, list):
        return {repr(c): c for c in cases}
    return {key: value for key, value in made.items() if isinstance(value, np.ndarray)}


@pytest.mark.parametrize("name", list(inputs.MAKERS))
def test_graded_inputs_never_equal_the_self_check_inputs(name):
    own = _cases(inputs.make(name, inputs.SELF_CHECK_SEED))
    for seed in (1, 2, 12345, 2**31 - 2):
        for label, case in _cases(inputs.make(name, seed)).items():
            if label in own:
                same = (own[label] == case if isinstance(case, tuple) and isinstance(case[0], int)
                        else all(np.array_equal(a, b) for a, b in zip(
                            np.atleast_1d(np.asarray(own[label], dtype=object)),
                            np.atleast_1d(np.asarray(case, dtype=object)))))
                assert not same, (name, seed, label)


def test_comparison_survives_anything_a_student_process_sends():
    reference = {"shape": {"what": "shape", "value": [3, 28, 28, 1]},
                 "values": {"what": "values", "value": [0.5, 1.5]},
                 "loss": {"what": "loss", "value": 1.25},
                 "std": {"what": "std", "value": [0.02, 0.02], "spread": 0.25}}
    deep = []
    for _ in range(500):
        deep = [deep]
    for junk in (None, [], "x", {"shape": None}, {"shape": {"value": float("nan")}},
                 {"shape": {"value": [3, 28, 28, 1]}, "values": {"value": {"a": 1}}},
                 {"shape": {"value": [3, 28, 28, 1]}, "values": {"value": [float("nan"), 1]}},
                 {"shape": {"value": [3, 28, 28, 1]}, "values": {"value": deep}},
                 {"shape": {"value": [3, 28, 28, 1]}, "values": {"value": [0.5, 1.5]},
                  "loss": {"value": True}},
                 {"shape": {"value": [3, 28, 28, 1]}, "values": {"value": [0.5, 1.5]},
                  "loss": {"value": 1.25}, "std": {"value": [[1], "a"]}}):
        passed, reason = compare("slerp", junk, reference)
        assert not passed and reason
    good = {key: {"value": value["value"]} for key, value in reference.items()}
    assert compare("slerp", good, reference) == (True, "")


def test_write_csv_is_atomic_and_shows_names_as_text(tmp_path):
    exercises = [notebooks.ExerciseCell("slerp", 2, "", "05.ipynb")]
    grades = [StudentGrade(name, {"slerp": 0}, {"slerp": "no cell defines `slerp`"})
              for name in ("=SUM(A1)", " =1+2", "\n\t@A1", "bob")]
    path = write_csv(Grading(exercises, grades, 7, sandboxed=False, cgroups=("pids", "cpu")),
                     tmp_path / "grades.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv"]  # no temporary left
    rows = list(csv.DictReader(open(path, newline="")))
    assert [row["student"] for row in rows] == ["'=SUM(A1)", "' =1+2", "'\n\t@A1", "bob"]
    assert rows[0]["graded"].startswith("NOT SANDBOXED")
    assert rows[0]["graded"].endswith("seed 7; cgroups: pids, cpu")


def test_the_csv_is_readable_by_the_instructors_group(tmp_path):
    """Written through files.atomic_path (0666 less the umask), not mkstemp's 0600."""
    import os

    previous = os.umask(0o027)
    try:
        path = write_csv(Grading([], [StudentGrade("bob")], 7, sandboxed=True),
                         tmp_path / "grades.csv")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o640


# --- the runner's channel: a runner that stalls, dies or lies costs one exercise ----------------

FAKE_RUNNER = """
import json, os, pickle, struct, sys, time
def send(reply):
    data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
    os.write(1, struct.pack(">I", len(data)) + data)
send({"ready": True})
while True:
    header = os.read(0, 4)
    if len(header) < 4:
        sys.exit(0)
    size = struct.unpack(">I", header)[0]
    body = b""
    while len(body) < size:
        body += os.read(0, size - len(body))
    name = pickle.loads(body)["name"]
    if name == "stall":
        time.sleep(60)
    elif name == "die":
        os._exit(1)
    elif name == "huge":
        os.write(1, struct.pack(">I", 1 << 30))
        time.sleep(60)
    elif name == "lie":
        send({"name": "other", "observations": {}})
    else:
        send({"name": name, "observations": {"ok": True}})
"""


@pytest.mark.integration
def test_a_runner_that_stalls_dies_or_lies_costs_only_that_exercise(tmp_path, monkeypatch):
    script = tmp_path / "runner.py"
    script.write_text(FAKE_RUNNER)
    monkeypatch.setattr(sandbox, "plain_command", lambda: [sys.executable, str(script)])
    monkeypatch.setattr(inputs, "make", lambda name, seed: {})
    cells = [(name, "") for name in ("a", "stall", "b", "die", "c", "huge", "d", "lie", "e")]
    limits = Limits(exercise_seconds=1, student_seconds=60, startup_seconds=10)
    results = run_cells(cells, 1, limits, sandboxed=False)
    assert [name for name, r in results.items() if "observations" in r] == list("abcde")
    assert "no reply for stall in time" in results["stall"]["error"]
    assert "ended while die" in results["die"]["error"]
    assert "larger than" in results["huge"]["error"]
    assert "was not for lie" in results["lie"]["error"]


@pytest.mark.integration
def test_closing_an_unsandboxed_session_kills_its_processes_without_a_grace_wait(
        tmp_path, monkeypatch):
    # The grace wait is for bwrap, which exits once its init is killed; an unsandboxed
    # runner is killed with its session directly (a 5 s wait a student, once), and its
    # children too, even one that left the session.
    script = tmp_path / "runner.py"
    script.write_text("import subprocess, sys\n"
                      "sleeper = [sys.executable, '-c', 'import os, time; os.setsid(); "
                      "time.sleep(60)']\n"
                      "print(subprocess.Popen(sleeper).pid, file=open(sys.argv[1], 'w'),"
                      " flush=True)\n" + FAKE_RUNNER)
    pid_file = tmp_path / "child.pid"
    monkeypatch.setattr(sandbox, "plain_command",
                        lambda: [sys.executable, str(script), str(pid_file)])
    waits, wait = [], subprocess.Popen.wait
    monkeypatch.setattr(subprocess.Popen, "wait",
                        lambda self, timeout=None: waits.append(timeout) or wait(self, timeout))
    session = sandbox.Session(Limits(startup_seconds=10), sandboxed=False)
    child = int(pid_file.read_text())
    for _ in range(200):  # until the child has a session of its own
        if os.getsid(child) == child:
            break
        time.sleep(0.05)
    session.close()
    assert session.process.returncode is not None and waits == [None]
    assert _ends(child), "the runner's own child outlived the session"


def _ends(pid, seconds=5):
    """Whether process ``pid`` is gone (or a zombie) within ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.mark.integration
def test_a_student_out_of_time_loses_the_rest(tmp_path, monkeypatch):
    script = tmp_path / "runner.py"
    script.write_text(FAKE_RUNNER)
    monkeypatch.setattr(sandbox, "plain_command", lambda: [sys.executable, str(script)])
    monkeypatch.setattr(inputs, "make", lambda name, seed: {})
    limits = Limits(exercise_seconds=5, student_seconds=1.5, startup_seconds=10)
    results = run_cells([("stall", ""), ("a", "")], 1, limits, sandboxed=False)
    assert "time limit" in results["stall"]["error"] and "time limit" in results["a"]["error"]


@pytest.mark.integration
@pytest.mark.skipif(not sandbox.cgroup_kinds(), reason="no cgroup can be made here")
def test_a_student_gets_cgroups_capping_processes_memory_and_cpu_together(tmp_path,
                                                                          monkeypatch):
    """One student's spinners and memory cannot take a neighbour's share: the runner and all
    it starts sit in cgroups of their own (what can be made here), removed at the end."""
    script = tmp_path / "runner.py"
    script.write_text(FAKE_RUNNER)
    monkeypatch.setattr(sandbox, "plain_command", lambda: [sys.executable, str(script)])
    limits = Limits(memory_bytes=3 << 30, cpus=0.5, processes=99, startup_seconds=10)
    with sandbox.Session(limits, sandboxed=False) as session:
        folders = session.cap.folders
        assert set(folders) == set(sandbox.cgroup_kinds())
        for folder in folders.values():
            assert str(session.process.pid) in (folder / "cgroup.procs").read_text().split()
        values = {f.name: f.read_text().strip() for folder in folders.values()
                  for f in folder.iterdir()
                  if f.name in ("pids.max", "memory.max", "memory.limit_in_bytes", "cpu.max",
                                "cpu.cfs_quota_us")}
    assert not any(folder.exists() for folder in folders.values())
    expected = {"pids": {"pids.max": "99"},
                "memory": {"memory.limit_in_bytes": str(3 << 30), "memory.max": str(3 << 30)},
                "cpu": {"cpu.cfs_quota_us": "50000", "cpu.max": "50000 100000"}}
    for kind in folders:
        assert any(values.get(name) == value for name, value in expected[kind].items()), \
            (kind, values)


SPENDER = """
import os, sys, time
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        if sys.argv[1] == "memory":  # 100 MiB each, touched
            block = bytearray(100 << 20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(1)
        else:  # spin
            started = time.time()
            while time.time() - started < 2:
                pass
        os._exit(0)
    kids.append(pid)
print(sum(os.waitpid(kid, 0)[1] != 0 for kid in kids))
"""


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["memory", "cpu"])
def test_the_cgroups_hold_for_all_the_students_processes_together(kind):
    """Four processes under a 250 MiB memory cap: not all of them get their 100 MiB (each
    process alone is within any per-process limit); four spinners under a quarter core's
    quota: a quarter core's CPU time between them."""
    import resource

    if kind not in sandbox.cgroup_kinds():
        pytest.skip(f"no {kind} cgroup can be made here")
    limits = Limits(memory_bytes=250 << 20, cpus=0.25)
    cgroups = sandbox.Cgroups(limits)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        started = time.monotonic()
        done = sandbox.subprocess.run(
            sandbox.launch_command([sys.executable, "-c", SPENDER, kind], Limits(),
                                   cgroups.procs), capture_output=True, text=True, timeout=60)
        wall = time.monotonic() - started
    finally:
        cgroups.remove()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if kind == "memory":
        assert int(done.stdout) >= 1, done  # killed: the cap is the group's
    else:
        used = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
        assert used < 0.25 * wall + 0.5, (used, wall)


@pytest.mark.integration
def test_where_no_cgroup_can_be_made_the_sandbox_runs_and_the_csv_says_so(tmp_path,
                                                                          monkeypatch):
    """CI without a writable cgroup: the per-process limits alone, named in every row."""
    script = tmp_path / "runner.py"
    script.write_text(FAKE_RUNNER)
    monkeypatch.setattr(sandbox, "plain_command", lambda: [sys.executable, str(script)])
    monkeypatch.setattr(sandbox, "_cgroup_parent", lambda controller: (None, ""))
    monkeypatch.setattr(inputs, "make", lambda name, seed: {})
    assert sandbox.cgroup_kinds() == ()
    limits = Limits(exercise_seconds=5, student_seconds=30, startup_seconds=10)
    assert "observations" in run_cells([("a", "")], 1, limits, sandboxed=False)["a"]
    note = Grading([], [], 7, sandboxed=True, cgroups=sandbox.cgroup_kinds()).note
    assert note.endswith("no cgroups: per-process limits only, CPU unshared")


def test_what_a_killed_grader_left_is_removed_on_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox.tempfile, "gettempdir", lambda: str(tmp_path))
    dead = sandbox.subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"{sandbox.CGROUP_PREFIX}{dead.pid}_abc"
    live = tmp_path / f"{sandbox.CGROUP_PREFIX}{sandbox.os.getpid()}_abc"
    for folder in (stale, live):
        (folder / "sub").mkdir(parents=True)
    parents = [sandbox._cgroup_parent(c)[0] for c in sandbox.cgroup_kinds()]
    groups = [p / f"{sandbox.CGROUP_PREFIX}{dead.pid}_1" for p in parents if p]
    for group in groups:
        group.mkdir(exist_ok=True)
    sandbox.remove_stale()
    assert not stale.exists() and live.exists()
    assert not any(group.exists() for group in groups)


def test_sandbox_mounts_python_read_only_and_covers_answers_inside_it(tmp_path):
    inside = Path(sys.prefix).resolve() / "lib"  # e.g. gan_lab installed into site-packages
    command = sandbox.bwrap_command(Limits(), secrets=(str(inside), str(ROOT)))
    pairs = list(zip(command, command[1:]))
    assert ("--ro-bind", str(Path(sys.prefix).resolve())) in pairs
    assert ("--tmpfs", str(inside)) in pairs
    # nothing of the host is writable (but a bwrap before 0.8's /tmp: the session's folder)
    assert [b for a, b in pairs if a == "--bind"] in ([], ["/nonexistent"])
    if "--size" in sandbox._bwrap_options():  # bwrap 0.8 and later
        assert "--disable-userns" in command and ("--tmpfs", "/tmp") in pairs
    assert str(ROOT) not in [b for a, b in pairs if a == "--ro-bind" and not b.startswith(
        str(sandbox.HERE))]
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1",
                 "--clearenv", "--remount-ro"):
        assert flag in command
    # the private /tmp comes before the mounts: a venv under /tmp (CI's) stays visible
    assert command.index("/tmp") < pairs.index(("--ro-bind", str(Path(sys.prefix).resolve())))


# --- the grade command ----------------------------------------------------------------------------


def test_grade_refuses_without_a_sandbox_and_says_how_to_get_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    sandbox.check_available.cache_clear()
    try:
        assert main(["grade", str(LABS), "--out", str(tmp_path / "grades.csv")]) == 2
    finally:
        sandbox.check_available.cache_clear()
    error = capsys.readouterr().err
    assert "apt-get install bubblewrap" in error and "--no-sandbox" in error
    assert not (tmp_path / "grades.csv").exists()


@pytest.mark.integration
def test_grade_without_a_sandbox_warns_on_the_run_and_in_the_csv(tmp_path, capsys):
    students.write_student(tmp_path / "class" / "ivan", books=("04",))
    out = tmp_path / "grades.csv"
    assert main(["grade", str(tmp_path / "class"), "--no-sandbox", "--out", str(out),
                 "--timeout", "60"]) == 0
    assert "WARNING: NOT SANDBOXED" in capsys.readouterr().err
    row = next(csv.DictReader(open(out, newline="")))
    assert row["student"] == "ivan" and row["total"] == "7"  # Lab 4's exercises
    assert row["graded from"] == "04_mode_collapse.ipynb"
    assert row["graded"].startswith("NOT SANDBOXED (--no-sandbox)")
    assert "build_dcgan_generator: no cell defines" in row["reasons"]


def test_release_check_command_fails_on_stale_labs(tmp_path, capsys):
    assert main(["release", "--labs", str(tmp_path), "--check"]) == 1
    assert "Out of date" in capsys.readouterr().err
    assert main(["release", "--check"]) == 0


def test_a_list_of_rules_that_differs_says_what_is_missing_and_extra_whole():
    """A long list cut at 60 characters hid the difference ('t...' against 's...'); a
    position in the sorted list of activations ("item 4 of 4") named no place in the
    student's code: what is missing and what is extra does."""
    from gan_lab.grading.compare import first_difference

    want = ["LeakyReLU(0.2)"] * 3 + ["tanh"]
    reason = first_difference({"value": want[:3] + ["sigmoid"]},
                              {"what": "activations (what each computes)", "value": want})
    assert reason == ("activations (what each computes): expected 1 x 'tanh', found "
                      "1 x 'sigmoid' instead")
    reason = first_difference({"value": want + ["sigmoid"]},
                              {"what": "activations (what each computes)", "value": want})
    assert reason == "activations (what each computes): 1 x 'sigmoid' more than expected"
    reason = first_difference({"value": [False]}, {"what": "flags", "value": [True]})
    assert reason == "flags: value 1 of 1 is False, expected True"
    reason = first_difference({"value": [[0.0, 1.0], [2.0, 3.0]]},
                              {"what": "points", "value": [[0.0, 1.0], [2.0, 4.0]]})
    assert reason == "points: differs, e.g. value (2, 2) of (2, 2) is 3, expected 4"
    reason = first_difference({"value": [0.0, 1.0, 2.5]},
                              {"what": "values", "value": [0.0, 1.0, 2.0]})
    assert reason == "values: differs, e.g. value 3 of 3 is 2.5, expected 2"
    reason = first_difference({"value": []}, {"what": "dropout rates", "value": [0.3] * 3})
    assert reason.startswith("dropout rates: expected 3 values")


@pytest.mark.integration
def test_grade_runs_from_any_folder_and_grades_one_lab_out_of_its_points(tmp_path, capsys,
                                                                       monkeypatch):
    students.write_student(tmp_path / "class" / "ivan", books=("05",))
    monkeypatch.chdir(tmp_path)  # not the project's folder: the clone's solutions are found
    out = tmp_path / "grades.csv"
    assert main(["grade", "class", "--lab", "05", "--no-sandbox", "--out", str(out),
                 "--timeout", "60"]) == 0
    row = next(csv.DictReader(open(out, newline="")))
    assert row["student"] == "ivan" and row["total"] == row["max"] == "4"
    assert "slerp" in row and "scale_images" not in row  # Lab 5's columns only
    assert main(["grade", "class", "--lab", "07", "--no-sandbox", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "no lab 07" in error and "01_vanilla_gan" in error
    assert main(["grade", "class", "--solutions", str(tmp_path / "none"), "--no-sandbox",
                 "--out", str(out)]) == 2
    assert "--solutions DIR" in capsys.readouterr().err


@pytest.mark.integration
def test_the_pytest_form_grades_one_lab_with_a_seed_and_says_where_the_csv_went(tmp_path):
    """`pytest tests/grading --submission ... --lab 05 --grading-seed 7 --grades-csv F`: the
    failing tests name the lost points; the summary names the CSV and how it was graded."""
    import os
    import subprocess

    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        pytest.skip(str(error))
    out = tmp_path / "grades.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/grading", "--submission",
         str(LABS / "05_dcgan_paper.ipynb"), "--lab", "05", "--grading-seed", "7",
         "--grades-csv", str(out), "-q", "-n", "0", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stdout[-2000:]  # the stubs lose both exercises
    assert "loses 2 point(s) on slerp: not implemented" in done.stdout
    row = next(csv.DictReader(open(out, newline="")))
    assert (row["total"], row["max"]) == ("0", "4") and "inputs seed 7;" in row["graded"]
    assert f"1 student(s) written to {out}" in done.stdout
