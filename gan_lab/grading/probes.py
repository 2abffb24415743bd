"""What each exercise is checked on: a probe runs the exercise's object on fixed, seeded
inputs and returns observations; ``compare`` sets a student's observations beside the
reference's and says, in one line, the first thing that differs.

A probe runs in the process that holds the code under test (the student's, or the
solutions'); ``compare`` runs in the grader, which holds neither. Observations are plain
JSON (numbers, lists, strings), so nothing else crosses between the processes.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


def observe(what: str, value) -> dict:
    """One observation: ``what`` says in words what was measured, for the reason line."""
    if isinstance(value, np.ndarray) or hasattr(value, "numpy"):
        value = np.asarray(value)
        value = value.item() if value.ndim == 0 else value.tolist()
    elif isinstance(value, (np.floating, np.integer, np.bool_)):
        value = value.item()
    elif isinstance(value, tuple):
        value = list(value)
    return {"what": what, "value": value}


# --- helpers shared by the probes ------------------------------------------------------


def _rng(seed, salt):
    return np.random.default_rng([seed, salt])


def assign_weights(model, seed):
    """Give ``model`` deterministic weights from ``seed``: two models of the same
    architecture then compute the same function, whoever built them."""
    rng = _rng(seed, 99)
    for weight in model.weights:
        if "float" not in str(weight.dtype):  # e.g. a dropout layer's seed state
            continue
        name = weight.name
        if "moving_variance" in name or name == "gamma":
            value = rng.uniform(0.5, 1.5, weight.shape)
        elif "moving_mean" in name:
            value = rng.normal(0, 0.1, weight.shape)
        else:
            value = rng.normal(0, 0.05, weight.shape)
        weight.assign(value.astype("float32"))


def _trainable(model):
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def _layers(model):
    return model._flatten_layers(include_self=False, recursive=True)


def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None)


def _ends_in_tanh(model):
    for layer in reversed(list(_layers(model))):
        kind = type(layer).__name__
        if kind in ("Reshape", "Flatten", "InputLayer"):
            continue
        return _activation_name(layer) == "tanh"
    return False


def _is_model(obj):
    import keras

    return isinstance(obj, keras.Model)


def _build(builder, what):
    model = builder()
    if not _is_model(model):
        raise TypeError(f"{what}() must return a keras.Model, got {type(model).__name__}")
    return model


# --- probes ------------------------------------------------------------------------------


def probe_scale_images(scale_images, seed):
    rng = _rng(seed, 1)
    cases = {
        "random digits (5, 28, 28) uint8": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "all-black (2, 28, 28) uint8": np.zeros((2, 28, 28), np.uint8),
        "all-white (2, 28, 28) uint8": np.full((2, 28, 28), 255, np.uint8),
        "with channel axis (3, 28, 28, 1) uint8": rng.integers(0, 256, (3, 28, 28, 1),
                                                                dtype=np.uint8),
    }
    observations = {}
    for label, pixels in cases.items():
        out = np.asarray(scale_images(pixels.copy()))
        observations[f"{label}: shape"] = observe(f"output shape for {label}", out.shape)
        observations[f"{label}: dtype"] = observe(f"output dtype for {label}", str(out.dtype))
        observations[f"{label}: values"] = observe(f"values for {label}",
                                                   out.astype(np.float64).ravel()[:300])
    return observations


def _model_observations(model, inputs, what):
    observations = {
        "output shape": observe(f"{what} output shape for input {inputs.shape}",
                                tuple(model(inputs, training=False).shape)),
        "trainable parameters": observe(f"{what} trainable parameters", _trainable(model)),
    }
    kinds = [type(layer).__name__ for layer in _layers(model)]
    pooling = [k for k in kinds if "Pooling" in k or k == "UpSampling2D"]
    observations["pooling layers"] = observe(f"{what} pooling/upsampling layers", len(pooling))
    assign_weights(model, 7)
    observations["outputs"] = observe(
        f"{what} outputs with fixed weights on fixed inputs (training=False)",
        np.asarray(model(inputs, training=False), np.float64).ravel()[:400],
    )
    return observations


def _generator_probe(builder_name, dense):
    def probe(builder, seed):
        import keras

        keras.utils.set_random_seed(seed)
        model = _build(builder, builder_name)
        z = _rng(seed, 2).standard_normal((3, 100)).astype(np.float32)
        observations = _model_observations(model, z, "generator")
        observations["ends in tanh"] = observe("generator's last activation is tanh",
                                               _ends_in_tanh(model))
        big = np.asarray(model(z * 50, training=False))
        observations["range"] = observe("outputs for large z stay in [-1, 1]",
                                        bool(np.abs(big).max() <= 1.0 + 1e-6))
        layers = list(_layers(model))
        kinds = [type(layer).__name__ for layer in layers]
        if dense:
            observations["conv layers"] = observe(
                "convolution layers in a dense generator",
                sum("Conv" in k for k in kinds))
        else:
            observations.update(_dcgan_generator_rules(layers, kinds))
        return observations

    return probe


def _dcgan_generator_rules(layers, kinds):
    transposed = [l for l in layers if type(l).__name__ == "Conv2DTranspose"]
    last_conv = max((i for i, k in enumerate(kinds) if k == "Conv2DTranspose"), default=-1)
    after_output = kinds[last_conv + 1:] if last_conv >= 0 else []
    return {
        "transposed convolutions stride 2": observe(
            "every Conv2DTranspose has stride 2 (fractional-strided)",
            bool(transposed) and all(tuple(l.strides) == (2, 2) for l in transposed)),
        "batch norm after output": observe(
            "batch norm after the output layer (Radford: none there)",
            "BatchNormalization" in after_output),
        "uses ReLU": observe("ReLU activations in the generator",
                             "ReLU" in kinds or any(_activation_name(l) == "relu"
                                                    for l in layers)),
    }


def _discriminator_probe(builder_name, dense):
    def probe(builder, seed):
        import keras

        keras.utils.set_random_seed(seed)
        model = _build(builder, builder_name)
        images = _rng(seed, 3).uniform(-1, 1, (4, 28, 28, 1)).astype(np.float32)
        observations = _model_observations(model, images, "discriminator")
        layers = list(_layers(model))
        kinds = [type(layer).__name__ for layer in layers]
        slopes = sorted({round(float(l.negative_slope), 4) for l in layers
                         if type(l).__name__ == "LeakyReLU"})
        observations["leaky slopes"] = observe("LeakyReLU slopes", slopes)
        if not dense:
            convs = [i for i, k in enumerate(kinds) if k == "Conv2D"]
            first_follow = kinds[convs[0] + 1] if convs and convs[0] + 1 < len(kinds) else None
            observations["convolutions stride 2"] = observe(
                "every Conv2D has stride 2",
                bool(convs) and all(tuple(layers[i].strides) == (2, 2) for i in convs))
            observations["batch norm on input layer"] = observe(
                "batch norm right after the first convolution (Radford: none there)",
                first_follow == "BatchNormalization")
            observations["dense layers"] = observe("Dense layers (only the final logit)",
                                                   kinds.count("Dense"))
        return observations

    return probe


LOGIT_CASES = {
    "logits from N(0, 2), batch 8": lambda rng: rng.normal(0, 2, (8, 1)),
    "zero logits, batch 4": lambda rng: np.zeros((4, 1)),
    "extreme logits +-60, batch 4": lambda rng: np.array([[60.0], [-60.0], [45.0], [-45.0]]),
    "one sample": lambda rng: rng.normal(0, 1, (1, 1)),
}


def probe_discriminator_loss(loss, seed):
    observations = {}
    for index, (label, make) in enumerate(LOGIT_CASES.items()):
        rng = _rng(seed, 10 + index)
        real = make(rng).astype(np.float32)
        fake = make(rng).astype(np.float32)[::-1].copy()
        value = float(np.asarray(loss(real, fake)))
        observations[label] = observe(f"discriminator_loss on {label}", value)
    return observations


def _generator_loss_probe(loss, seed):
    observations = {}
    for index, (label, make) in enumerate(LOGIT_CASES.items()):
        fake = make(_rng(seed, 20 + index)).astype(np.float32)
        observations[label] = observe(f"loss on {label}", float(np.asarray(loss(fake))))
    return observations


def probe_train_step(train_step, seed):
    import keras

    from gan_lab import models

    keras.utils.set_random_seed(seed)
    generator = models.dense_generator(latent_dim=8, hidden=(16,), batch_norm=False)
    discriminator = models.dense_discriminator(hidden=(16,), dropout=0)
    assign_weights(generator, seed)
    assign_weights(discriminator, seed + 1)
    rng = _rng(seed, 30)
    real = rng.uniform(-1, 1, (6, 28, 28, 1)).astype(np.float32)
    z = rng.standard_normal((6, 8)).astype(np.float32)
    d_optimizer = keras.optimizers.SGD(learning_rate=0.5)
    g_optimizer = keras.optimizers.SGD(learning_rate=0.5)
    result = train_step(generator, discriminator, g_optimizer, d_optimizer, real, z)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError("train_step must return (d_loss, g_loss)")
    d_loss, g_loss = (float(np.asarray(v)) for v in result)

    def flat(model):
        return np.concatenate([np.asarray(w).ravel() for w in model.trainable_weights])

    return {
        "d_loss": observe("d_loss returned by one step", d_loss),
        "g_loss": observe("g_loss returned by one step", g_loss),
        "discriminator weights": observe("discriminator weights after one step",
                                         flat(discriminator)[::7]),
        "generator weights": observe("generator weights after one step", flat(generator)[::7]),
    }


def _size_probe(name, cases):
    def probe(function, seed):
        observations = {}
        for args in cases:
            call = f"{name}{args}"
            observations[call] = observe(call, int(function(*args)))
        return observations

    return probe


CONV_CASES = [
    (28, 3, 1, "same"), (28, 3, 1, "valid"), (28, 5, 2, "same"), (28, 5, 2, "valid"),
    (28, 4, 2, "same"), (28, 4, 2, "valid"), (14, 4, 2, "same"), (7, 3, 2, "same"),
    (7, 3, 2, "valid"), (32, 5, 1, "valid"), (32, 4, 2, "valid"), (1, 1, 1, "valid"),
    (5, 5, 1, "valid"), (9, 2, 3, "same"), (9, 2, 3, "valid"), (64, 7, 4, "same"),
    (64, 7, 4, "valid"), (3, 3, 2, "same"),
]
TRANSPOSE_CASES = [
    (7, 4, 2, "same"), (7, 4, 2, "valid"), (7, 5, 2, "same"), (7, 5, 2, "valid"),
    (14, 4, 2, "same"), (4, 4, 2, "valid"), (4, 3, 1, "same"), (4, 3, 1, "valid"),
    (1, 4, 1, "valid"), (1, 7, 1, "valid"), (5, 2, 3, "valid"), (5, 5, 3, "valid"),
    (8, 1, 2, "valid"), (16, 3, 2, "same"), (3, 2, 2, "valid"), (10, 6, 4, "same"),
]


def _probability_cases(seed):
    """Classifier outputs (N, 10): varied, collapsed onto one class, onto three, and unsure."""
    rng = _rng(seed, 7)

    def softmax(logits):
        e = np.exp(logits - logits.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    collapsed = np.full((40, 10), 1.0)
    collapsed[:, 3] = 8.0
    three = rng.normal(0, 0.3, (90, 10))
    three[np.arange(90), np.repeat([1, 5, 8], 30)] += 5
    return {
        "200 varied samples": softmax(rng.normal(0, 3, (200, 10))),
        "40 samples all of class 3": softmax(collapsed),
        "90 samples of classes 1, 5, 8": softmax(three),
        "50 samples, 47 of class 0": softmax(np.where(np.arange(10) == np.where(
            np.arange(50)[:, None] < 47, 0, 9), 4.0, 0.0)),
    }


def probe_class_histogram(class_histogram, seed):
    observations = {}
    for label, probabilities in _probability_cases(seed).items():
        out = np.asarray(class_histogram(probabilities.copy()), float)
        observations[f"{label}: shape"] = observe(f"histogram shape for {label}", out.shape)
        observations[f"{label}: values"] = observe(f"histogram for {label}", out)
    return observations


def _histogram_probe(name, cast):
    def probe(function, seed):
        from gan_lab.metrics import class_histogram

        observations = {}
        for label, probabilities in _probability_cases(seed).items():
            histogram = class_histogram(probabilities)
            observations[label] = observe(f"{name} of the histogram of {label}",
                                          cast(function(histogram.copy())))
        return observations

    return probe


def probe_slerp(slerp, seed):
    rng = _rng(seed, 11)
    z0, z1 = rng.normal(0, 1, 8), rng.normal(0, 1, 8)
    cases = {
        "two random codes, t = 0, 0.25, 0.5, 1": (z0, z1, [0.0, 0.25, 0.5, 1.0]),
        "codes at a wide angle, 7 steps": (z0, -z0 + 0.3 * z1, np.linspace(0, 1, 7)),
        "parallel codes (z1 = 2 z0)": (z0, 2 * z0, [0.0, 0.5, 1.0]),
    }
    observations = {}
    for label, (a, b, t) in cases.items():
        out = np.asarray(slerp(a.copy(), b.copy(), np.asarray(t)), float)
        observations[f"{label}: shape"] = observe(f"slerp shape for {label}", out.shape)
        observations[f"{label}: values"] = observe(f"slerp points for {label}", out)
    return observations


def probe_pool_to_grid(pool_to_grid, seed):
    rng = _rng(seed, 13)
    cases = {"maps (2, 7, 7, 3), grid 4": ((2, 7, 7, 3), 4),
             "maps (3, 14, 14, 2), grid 4": ((3, 14, 14, 2), 4),
             "maps (1, 4, 4, 5), grid 4": ((1, 4, 4, 5), 4),
             "maps (2, 6, 9, 1), grid 2": ((2, 6, 9, 1), 2)}
    observations = {}
    for label, (shape, grid) in cases.items():
        out = np.asarray(pool_to_grid(rng.normal(0, 1, shape).astype(np.float32), grid), float)
        observations[f"{label}: shape"] = observe(f"pooled shape for {label}", out.shape)
        observations[f"{label}: values"] = observe(f"pooled features for {label}", out)
    return observations


# --- the exercises -----------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """An exercise the grader knows: its probe and the names of other exercises it may
    call (replaced by reference versions while it is checked, so one broken exercise does
    not take points from another)."""

    name: str
    probe: Callable
    uses: tuple = ()
    hint: Callable | None = field(default=None, compare=False)


def _loss_hint(student, reference):
    pairs = [(s["value"], r["value"]) for s, r in zip(student.values(), reference.values())]
    if any(not math.isfinite(s) for s, _ in pairs if isinstance(s, float)):
        return "gives inf/nan on large logits: work on logits (from_logits=True, softplus), not log(sigmoid(x))"
    if all(isinstance(s, float) and math.isclose(s, -r, rel_tol=1e-3, abs_tol=1e-5)
           for s, r in pairs):
        return "has the opposite sign: a loss is what its network minimises"
    return None


def _train_step_hint(student, reference):
    def same(key):
        return _first_difference(key, student[key], reference[key]) is None

    if not same("d_loss"):
        return ("your loss functions were swapped for the reference ones here, so D saw other "
                "inputs: update D first, on real_images and G(z) from the generator before "
                "its update, both with training=True")
    if same("discriminator weights") and not same("generator weights"):
        return ("D's update is right but G's is not: after D's update, compute G's loss "
                "with a fresh forward pass through the updated D")
    return None


def _discriminator_hint(student, reference):
    outputs = np.asarray(student.get("outputs", {}).get("value", []), float)
    if outputs.size and outputs.min() >= 0 and outputs.max() <= 1:
        ref = np.asarray(reference["outputs"]["value"], float)
        if ref.min() < 0 or ref.max() > 1:
            return "outputs look like probabilities: D must output logits (no sigmoid)"
    return None


def _generator_losses():
    return {
        "generator_loss_minimax": Exercise("generator_loss_minimax", _generator_loss_probe,
                                           hint=_loss_hint),
        "generator_loss_non_saturating": Exercise("generator_loss_non_saturating",
                                                  _generator_loss_probe, hint=_loss_hint),
    }


EXERCISES = {
    "scale_images": Exercise("scale_images", probe_scale_images),
    "build_generator": Exercise("build_generator", _generator_probe("build_generator", True)),
    "build_discriminator": Exercise("build_discriminator",
                                    _discriminator_probe("build_discriminator", True),
                                    hint=_discriminator_hint),
    "discriminator_loss": Exercise("discriminator_loss", probe_discriminator_loss,
                                   hint=_loss_hint),
    **_generator_losses(),
    "train_step": Exercise("train_step", probe_train_step,
                           uses=("discriminator_loss", "generator_loss_non_saturating"),
                           hint=_train_step_hint),
    "conv_output_size": Exercise("conv_output_size",
                                 _size_probe("conv_output_size", CONV_CASES)),
    "conv_transpose_output_size": Exercise(
        "conv_transpose_output_size", _size_probe("conv_transpose_output_size", TRANSPOSE_CASES)),
    "build_dcgan_generator": Exercise("build_dcgan_generator",
                                      _generator_probe("build_dcgan_generator", False)),
    "build_dcgan_discriminator": Exercise("build_dcgan_discriminator",
                                          _discriminator_probe("build_dcgan_discriminator", False),
                                          hint=_discriminator_hint),
    "class_histogram": Exercise("class_histogram", probe_class_histogram),
    "kl_to_uniform": Exercise("kl_to_uniform", _histogram_probe("kl_to_uniform", float)),
    "modes_covered": Exercise("modes_covered", _histogram_probe("modes_covered", int)),
    "slerp": Exercise("slerp", probe_slerp),
    "pool_to_grid": Exercise("pool_to_grid", probe_pool_to_grid),
}


def reference_functions():
    """Reference versions of the exercises other exercises call (from gan_lab itself)."""
    from gan_lab.gan import discriminator_loss, generator_loss

    return {
        "discriminator_loss": discriminator_loss,
        "generator_loss_non_saturating": lambda logits: generator_loss(logits, "non_saturating"),
        "generator_loss_minimax": lambda logits: generator_loss(logits, "minimax"),
    }


@contextlib.contextmanager
def references_injected(obj, names):
    """While checking ``obj``, the globals it sees under ``names`` are the references."""
    namespace = getattr(obj, "__globals__", None)
    if namespace is None or not names:
        yield
        return
    references = reference_functions()
    saved = {name: namespace[name] for name in names if name in namespace}
    namespace.update({name: references[name] for name in names})
    try:
        yield
    finally:
        for name in names:
            namespace.pop(name, None)
        namespace.update(saved)


def run_probe(name, obj, seed):
    """The observations of exercise ``name`` on ``obj`` (raises what the code raises)."""
    exercise = EXERCISES[name]
    with references_injected(obj, exercise.uses):
        return exercise.probe(obj, seed)


# --- comparing -----------------------------------------------------------------------------


def _first_difference(key, student, reference):
    """None if the two observations agree, else a one-line description of the difference."""
    got, want = student["value"], reference["value"]
    what = reference["what"]
    if isinstance(want, list) and want and isinstance(_leaf(want), float):
        got_array = np.asarray(got, float) if _is_numeric(got) else None
        want_array = np.asarray(want, float)
        if got_array is None or got_array.shape != want_array.shape:
            return f"{what}: expected {len(want)} values, got {_short(got)}"
        if not np.allclose(got_array, want_array, rtol=RTOL, atol=ATOL, equal_nan=False):
            where = np.unravel_index(np.argmax(np.abs(got_array - want_array)), want_array.shape)
            place = f"#{where[0]}" if len(where) == 1 else f"at {list(map(int, where))}"
            return (f"{what}: differs, e.g. value {place} is {got_array[where]:.6g}, "
                    f"expected {want_array[where]:.6g}")
        return None
    if isinstance(want, float):
        if not isinstance(got, (int, float)) or not math.isclose(got, want, rel_tol=RTOL,
                                                                 abs_tol=ATOL):
            return f"{what}: expected {want:.6g}, got {_short(got)}"
        return None
    if got != want:
        return f"{what}: expected {_short(want)}, got {_short(got)}"
    return None


def _leaf(values):
    while isinstance(values, list) and values:
        values = values[0]
    return values


def _is_numeric(values):
    try:
        np.asarray(values, float)
        return True
    except (TypeError, ValueError):
        return False


def _short(value):
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def compare(name, student: dict, reference: dict):
    """(passed, reason): reason names the first observation that differs, and a hint."""
    for key, want in reference.items():
        if key not in student:
            return False, f"{want['what']}: not measured"
        difference = _first_difference(key, student[key], want)
        if difference:
            hint = EXERCISES[name].hint(student, reference) if EXERCISES[name].hint else None
            return False, difference + (f" ({hint})" if hint else "")
    return True, ""
