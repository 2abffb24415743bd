"""Reasons a student can act on: each planted bug, graded by the probes and the comparison
(no sandbox), loses its exercise with a reason that names the rule, then the place in the
student's network or the kind of error, then the numbers. Places follow one rule, "<thing>
N of M" counted from 1 (layer 2 of 4 (Dense 512), value 3 of 8)."""

import re
import sys
from pathlib import Path

import pytest

from gan_lab.grading import inputs, notebooks, probes
from gan_lab.grading.compare import compare

sys.path.insert(0, str(Path(__file__).parent / "grading"))
import students  # noqa: E402

pytestmark = pytest.mark.integration  # each test grades in child processes

PRELUDE = "import numpy as np\nimport tensorflow as tf\nimport keras\nfrom keras import layers, ops\n"
SOURCES = students._solution_sources()


@pytest.fixture(scope="module")
def solution():
    from test_grading import solution_namespace

    return solution_namespace()


def _planted(name, old, new, count=1):
    source = SOURCES[name]
    assert source.count(old) >= count, (name, old)
    return source.replace(old, new, count)


def _reason(solution, name, source, seed=3):
    namespace = {}
    exec(PRELUDE + source, namespace)
    made = inputs.make(name, seed)
    passed, reason = compare(name, probes.run_probe(namespace[name], made),
                             probes.run_probe(solution[name], made))
    assert not passed
    return reason


BN = "layers.BatchNormalization(momentum=0.9), "
# (exercise, the bug planted in the solution, what the reason must start with, and hold)
PLANTED = {
    "generator without its first batch norm": (
        "build_generator", (BN, ""),
        "missing batch normalisation: layer 2 of 4 (Dense 512): expected BatchNormalization "
        "after it, found none (trainable parameters: expected "),
    "DCGAN generator without its batch norm after the first transposed convolution": (
        "build_dcgan_generator", ("    model.add(layers.BatchNormalization(momentum=0.9))\n", ""),
        "missing batch normalisation: layer 2 of 3 (Conv2DTranspose 128 (stride 2)): "
        "expected BatchNormalization after it, found none (trainable parameters: expected "),
    "DCGAN discriminator without its batch norm": (
        "build_dcgan_discriminator", (BN, ""),
        "missing batch normalisation: layer 2 of 3 (Conv2D 128 (stride 2)): expected "
        "BatchNormalization after it, found none (outputs differ between training=True and training=False (dropout/batch norm): "
        "expected True, got False)"),
    "discriminator with a batch norm the lab does not ask for": (
        "build_discriminator", ("layers.Dense(512), ", "layers.Dense(512), " + BN),
        "extra batch normalisation: layer 2 of 4 (Dense 512): BatchNormalization after it, "
        "expected none (trainable parameters: expected "),
    "DCGAN generator with a bias before its batch norm": (
        "build_dcgan_generator", ("layers.Dense(7 * 7 * 256, use_bias=False, ",
                                  "layers.Dense(7 * 7 * 256, "),
        "a bias before batch normalisation: layer 1 of 3 (Dense 12544): expected no bias "
        "(use_bias=False: the batch norm after it has its own), found one (trainable "
        "parameters: expected "),
    "discriminator without dropout": (
        "build_discriminator", (" layers.Dropout(0.3),", "", 3),
        "dropout rates in training mode (fraction of units zeroed): layers 1 (Dense 1024), "
        "2 (Dense 512) and 3 (Dense 256) of 4: expected Dropout(0.3) after each, found none "
        "(expected 3 values, got [])"),
    "LeakyReLU with Keras' default slope": (
        "build_discriminator", ("layers.LeakyReLU(0.2)", "layers.LeakyReLU()", 3),
        "activations (what each computes): layers 1 (Dense 1024), 2 (Dense 512) and "
        "3 (Dense 256) of 4: expected LeakyReLU(0.2) after each, found LeakyReLU(0.3) "
        "(layers.LeakyReLU() slopes 0.3 unless told: pass negative_slope=0.2) (expected "
        "3 x 'LeakyReLU(0.2)', found 3 x 'LeakyReLU(0.3)' instead)"),
    "a ReLU where the generator's LeakyReLU goes": (
        "build_generator", ("layers.Dense(256), layers.LeakyReLU(0.2)",
                            "layers.Dense(256), layers.ReLU()"),
        "activations (what each computes): "),
    "pixels scaled to [0, 1]": (
        "scale_images", ("/ 127.5 - 1.0", "/ 255.0"),
        "values for random digits (5, 28, 28) uint8: the pixels are scaled to [0, 1]: the "
        "generator's tanh makes [-1, 1], so scale to [-1, 1] (x / 127.5 - 1) (the values are "
        "in [0, 1] where [-1, 1] is expected (e.g. value "),
    "pixels scaled to [0, 1] in float64": (
        "scale_images", ("np.asarray(pixels, dtype=np.float32) / 127.5 - 1.0",
                         "np.asarray(pixels) / 255"),
        "output dtype for random digits (5, 28, 28) uint8: the pixels are scaled to [0, 1]: "
        "the generator's tanh makes [-1, 1], so scale to [-1, 1] (x / 127.5 - 1) (expected "
        "'float32', got 'float64')"),
    "modes counted from every point, not only the high-quality ones": (
        "mode_coverage", ("nearest[good]", "nearest"),
        "modes covered (means nearest to at least one point within 3 std) for "),
    "a share in percent": (
        "mode_coverage", ("float(good.mean())", "float(100 * good.mean())"),
        "high-quality share (points within 3 std of their nearest mean, of all N) for "),
    "high quality within 1 std": (
        "mode_coverage", ("<= 3 * std", "<= std"), "high-quality share (points within 3 std"),
    "channels interleaved in a pack": (
        "pack_samples", ("np.concatenate([grouped[:, j] for j in range(m)], axis=-1)",
                         "np.moveaxis(grouped, 1, -1).reshape(packs, *samples.shape[1:-1], -1)"),
        "packed values for images ("),
    "a pack of strided samples": (
        "pack_samples", ("np.concatenate([grouped[:, j] for j in range(m)], axis=-1)",
                         "np.concatenate([samples[j:packs * m:m] for j in range(m)][::-1], axis=-1)"),
        "packed values for images"),
    "every sample packed, N mod m padded": (
        "pack_samples", ("packs = len(samples) // m", "packs = -(-len(samples) // m)\n"
                         "    samples = np.concatenate([samples, samples[:packs * m - len(samples)]])"),
        "packed shape for images"),
    "the two losses returned swapped": (
        "train_step", ("return d_loss, g_loss", "return g_loss, d_loss"),
        "d_loss returned by one step: the two losses are swapped: return (d_loss, g_loss), "
        "D's loss first; both updates are otherwise as expected (expected "),
    "the hinge loss's arguments swapped": (
        "hinge_discriminator_loss", ("def hinge_discriminator_loss(real_scores, fake_scores)",
                                     "def hinge_discriminator_loss(fake_scores, real_scores)"),
        "hinge_discriminator_loss on scores from N(0, 2) (inside and beyond +-1), batch 8: its "
        "two arguments are swapped: the first is D's output on the real images, the second "
        "on the fakes (real, fake), as the signature names them (expected "),
    "D's loss with its arguments swapped": (
        "discriminator_loss", ("def discriminator_loss(real_logits, fake_logits)",
                               "def discriminator_loss(fake_logits, real_logits)"),
        "discriminator_loss on logits from N(0, 2), batch 8: its two arguments are swapped"),
    "slerp as lerp": (
        "slerp", ("    if omega < 1e-4:\n", "    if True:\n"),
        "slerp points for two random codes, t = 0, 0.25, 0.5, 1: linear instead of spherical "
        "interpolation: (1 - t) z0 + t z1 cuts through the sphere"),
}
HOLDS = {
    "a ReLU where the generator's LeakyReLU goes":
        ": layer 1 of 4 (Dense 256): expected LeakyReLU(0.2) after it, found ReLU (",
    "modes counted from every point, not only the high-quality ones":
        ": a mode is covered only by a high-quality point",
    "a share in percent": "not a percentage",
    "high quality within 1 std": "at most 3 standard deviations (3 * std)",
    "channels interleaved in a pack": "in another order",
    "every sample packed, N mod m padded": "the last N mod m samples sit out",
}


@pytest.mark.parametrize("bug", list(PLANTED))
def test_a_planted_bug_gets_a_reason_that_says_what_to_fix(solution, bug):
    name, change, start = PLANTED[bug]
    reason = _reason(solution, name, _planted(name, *change))
    assert reason.startswith(start), reason
    assert HOLDS.get(bug, "") in reason, reason
    assert not re.match(r"layers? \d", reason), reason  # the rule leads, never a place
    assert not re.search(r"item \d+ of|#\d|at \[", reason), reason  # "N of M" places only


def test_a_transposed_result_is_named_so(solution):
    source = SOURCES["pool_to_grid"]
    namespace = {}
    exec(PRELUDE + source, namespace)
    made = inputs.make("pool_to_grid", 3)
    transposed = probes.run_probe(lambda m, grid=4: namespace["pool_to_grid"](m, grid).T, made)
    reference = probes.run_probe(solution["pool_to_grid"], made)
    transposed = {key: value for key, value in transposed.items() if "shape" not in key}
    reference = {key: value for key, value in reference.items() if "shape" not in key}
    passed, reason = compare("pool_to_grid", transposed, reference)
    assert not passed
    assert ": the transpose of the expected: two axes or arguments swapped (expected " in reason


def test_networks_written_otherwise_keep_full_marks_and_the_layers_are_not_judged(solution):
    """The layers observation only places a difference: a discriminator with activations
    as keywords and a Lambda (no layers described), or a functional one, still passes."""
    for style in (students.FUNCTIONAL, students.KEYWORDS):
        for name in ("build_generator", "build_discriminator", "build_dcgan_generator",
                     "build_dcgan_discriminator"):
            namespace = {}
            exec(PRELUDE + style[name], namespace)
            made = inputs.make(name, 3)
            assert compare(name, probes.run_probe(namespace[name], made),
                           probes.run_probe(solution[name], made)) == (True, ""), name


PATCHED_PROBE = '''
import sys
probes = sys.modules["probes"]
probes.dropout_rates = lambda model, x, seed: [0.3, 0.3, 0.3]
probes.run_probe.__globals__["dropout_rates"] = probes.dropout_rates
'''


def test_a_patched_probe_module_changes_nothing_for_a_network_of_keras_layers(solution,
                                                                             tmp_path):
    """The builders' networks are saved by the cell's process and measured in a fresh one:
    a cell that patches the probe module to report the lab's dropout for a discriminator
    without it loses the exercise. A subclassed network (which needs the student's code to
    load) is measured where the cell ran, and the row and report say so."""
    from gan_lab.grading import grader
    from gan_lab.grading.feedback import student_report
    from gan_lab.grading.sandbox import Limits

    no_dropout = _planted("build_discriminator", " layers.Dropout(0.3),", "", 3)
    subclassed = ("class D(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
                  "        self.net = build()\n    def call(self, x, training=False):\n"
                  "        return self.net(x, training=training)\n"
                  + no_dropout.replace("def build_discriminator", "def build")
                  + "\ndef build_discriminator():\n    return D()\n")
    made = inputs.make("build_discriminator", 3)
    reference = probes.run_probe(solution["build_discriminator"], made)
    cells = [("build_discriminator", no_dropout + PATCHED_PROBE)]
    limits = Limits(exercise_seconds=120, student_seconds=300)
    results = grader.run_cells(cells, 3, limits, sandboxed=False,
                               made={"build_discriminator": made})
    outcome = results["build_discriminator"]
    assert outcome.get("fresh") is True, outcome
    passed, reason = compare("build_discriminator", outcome["observations"], reference)
    assert not passed and reason.startswith("dropout rates in training mode"), reason
    exercise = notebooks.ExerciseCell("build_discriminator", 4, no_dropout,
                                      "01_vanilla_gan.ipynb")
    students.write_student(tmp_path, {"build_discriminator": subclassed + PATCHED_PROBE},
                           books=("01",))
    book = tmp_path / "01_vanilla_gan.ipynb"
    grade = grader._grade_student("sam", grader.Submission([book]), [exercise],
                                  {"build_discriminator": reference}, 3, limits, False, (),
                                  {"build_discriminator": made})
    assert grade.in_own_process == ["build_discriminator"]
    row = grader.csv_rows(grader.Grading([exercise], [grade], 3, sandboxed=False))[0]
    assert row[-2].endswith(f"{grader.OWN_PROCESS}: build_discriminator")
    assert "measured in the process your cell ran in" in student_report([exercise], grade)
