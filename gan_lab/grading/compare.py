"""Judging observations, in the grader: a student's beside the solutions', and one line
saying the first thing that differs (rules come first, because the probes list them first).

The student's observations are untrusted JSON from another process: anything may be missing,
of the wrong type, nested oddly, NaN or huge. ``compare`` never raises on them; a value it
cannot read is a difference. Tolerances come from the reference's observation only.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


def _leaf(values):
    while isinstance(values, list) and values:
        values = values[0]
    return values


def _as_array(values):
    try:
        array = np.asarray(values, float)
    except (TypeError, ValueError, OverflowError, RecursionError):
        return None
    return array if array.dtype == float else None


# A value shown in a reason: numbers and arrays briefly; a list of words (activations,
# layers) whole up to this many characters, since a cut one hides the difference.
WORDS_SHOWN = 1000


def _short(value):
    if isinstance(value, float):
        return f"{value:.6g}"
    try:
        text = repr(value)
    except RecursionError:
        text = "(nested too deep)"
    limit = (WORDS_SHOWN if isinstance(value, list) and all(isinstance(v, str) for v in value)
             else 60)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# Places, one rule everywhere: "<thing> N of M", counted from 1 ("layer 2 of 4 (Dense 512)",
# "value 108 of 300", "value (2, 4) of (4, 8)"). A network's places are its layers with
# weights, in the order one forward pass calls them; a list of rules (activations, dropout
# rates) is sorted, so its differences are told as what is missing and what is extra,
# never by a position that is not one in the student's code.


def place(thing, index, total):
    """``thing`` at 0-based ``index`` (an int, or a tuple for an array) of ``total`` (a
    length or a shape), counted from 1: "value 3 of 8", "value (2, 4) of (4, 8)"."""
    if isinstance(index, tuple) and len(index) == 1:
        index, total = index[0], total[0]
    if isinstance(index, tuple):
        return (f"{thing} ({', '.join(str(int(i) + 1) for i in index)}) of "
                f"({', '.join(map(str, total))})")
    return f"{thing} {int(index) + 1} of {total}"


def _words_differ(got, want):
    """Two lists of rule words (sorted: activations) as what is missing and what is extra,
    e.g. "expected 3 x LeakyReLU(0.2), found 3 x LeakyReLU(0.3) instead"."""
    missing, extra = Counter(want) - Counter(got), Counter(got) - Counter(want)

    def counted(counter):
        return " and ".join(f"{n} x {_short(word)}" for word, n in counter.items())

    if missing and extra:
        return f"expected {counted(missing)}, found {counted(extra)} instead"
    if missing:
        return f"{counted(missing)} missing"
    return f"{counted(extra)} more than expected"


def first_difference(student, reference):
    """None if the two observations agree, else a one-line description of the difference."""
    what = reference["what"]
    want = reference["value"]
    if not isinstance(student, dict) or "value" not in student:
        return f"{what}: not measured"
    got = student["value"]
    if "spread" in reference:  # every value within a fraction of the reference's typical one
        typical = float(np.median(want)) if want else 0.0
        values = _as_array(got)
        if values is None or values.ndim != 1 or not values.size:
            return f"{what}: expected values near {typical:.3g}, got {_short(got)}"
        off = np.abs(values - typical) > reference["spread"] * abs(typical)
        if off.any():
            return (f"{what}: expected about {typical:.3g} each, got "
                    f"{', '.join(f'{v:.3g}' for v in values[:8])}")
        return None
    if isinstance(want, list) and want and isinstance(_leaf(want), float):
        got_array, want_array = _as_array(got), np.asarray(want, float)
        if got_array is None or got_array.shape != want_array.shape:
            transposed = (got_array is not None and got_array.ndim == 2
                          and got_array.T.shape == want_array.shape
                          and np.allclose(got_array.T, want_array, rtol=1e-4, atol=1e-5))
            numbers = f"expected {len(want)} values, got {_short(got)}"
            if transposed:  # the kind of error first, the numbers after
                return (f"{what}: the transpose of the expected: two axes or arguments "
                        f"swapped ({numbers})")
            return f"{what}: {numbers}"
        rtol, atol = reference.get("rtol", RTOL), reference.get("atol", ATOL)
        if not np.allclose(got_array, want_array, rtol=rtol, atol=atol, equal_nan=False):
            error = np.abs(got_array - want_array)
            error[~np.isfinite(error)] = np.inf
            where = np.unravel_index(np.argmax(error), want_array.shape)
            kind = _kind_of_error(got_array, want_array)
            example = (f"{place('value', where, want_array.shape)} is "
                       f"{got_array[where]:.6g}, expected {want_array[where]:.6g}")
            if kind:  # the kind of error first, the numbers after
                return f"{what}: {kind} (e.g. {example})"
            return f"{what}: differs, e.g. {example}"
        return None
    if isinstance(want, float):
        if not _is_number(got) or not math.isclose(got, want, rel_tol=RTOL, abs_tol=ATOL):
            return f"{what}: expected {want:.6g}, got {_short(got)}"
        return None
    if type(got) is not type(want) or got != want:
        words = (isinstance(want, list) and isinstance(got, list) and want
                 and all(isinstance(w, str) for w in want + got))
        if words and len(got) + len(want) <= 10_000:
            return f"{what}: {_words_differ(got, want)}"
        if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
            # the first value that differs, whole: a long list shortened would hide it
            index = next((i for i, (g, w) in enumerate(zip(got, want))
                          if type(g) is not type(w) or g != w), None)
            if index is not None:
                return (f"{what}: {place('value', index, len(want))} is "
                        f"{_short(got[index])}, expected {_short(want[index])}")
        return f"{what}: expected {_short(want)}, got {_short(got)}"
    return None


# --- hints: a likely cause, after the difference --------------------------------------------


def _kind_of_error(got, want):
    """What kind of error makes ``got`` from ``want`` (arrays of one shape), where cheap to
    tell: another range, a constant factor, the opposite sign, the values reordered."""
    if not np.all(np.isfinite(got)) or want.size < 2:
        return None

    def near(a, b):
        return np.allclose(a, b, rtol=1e-3, atol=1e-4)

    if near(got, (want + 1) / 2) and want.min() < -0.5:
        return "the values are in [0, 1] where [-1, 1] is expected"
    if near(got, (want + 1) * 127.5) and want.min() < -0.5:
        return "the values are in [0, 255] where [-1, 1] is expected: not scaled"
    if near(got, want * 2 - 1) and want.min() >= 0:
        return "the values are in [-1, 1] where [0, 1] is expected"
    if near(got, -want):
        return "every value has the opposite sign"
    big = np.abs(want) > 1e-6
    if big.sum() >= 2 and np.all(np.abs(got[~big]) < 1e-5):
        ratios = got[big] / want[big]
        if np.ptp(ratios) < 1e-3 * max(1.0, abs(float(np.mean(ratios)))) \
                and abs(float(np.mean(ratios)) - 1) > 1e-3:
            return (f"every value is {float(np.mean(ratios)):.4g} times the expected one: "
                    "off by a constant factor")
    if near(np.sort(got, axis=None), np.sort(want, axis=None)):
        return ("the right values in another order: a transposed or swapped axis or "
                "argument?")
    return None


# Keras 3's LeakyReLU() slopes 0.3 unless told: the labs ask for 0.2.
_KERAS_SLOPE = "LeakyReLU(0.3)"


def _following(items, kind):
    if kind == "normalisation":
        return [item for item in items if "Normalization" in item]
    if kind == "dropout":
        return [item for item in items if item.startswith("Dropout")]
    return [item for item in items if "Normalization" not in item
            and not item.startswith("Dropout")]


_NOUNS = {"normalisation": "batch normalisation", "dropout": "dropout",
          "activation": "activation"}


def _noun(kind, items):
    if kind == "normalisation" and not any(i == "BatchNormalization" for i in items):
        return "normalisation"
    return _NOUNS[kind]


def _structure_differences(student, reference):
    """Where the student's network differs from the solution's, layer by layer (the
    ``layers`` observation: [layer, bias, followers] each): a list of (rule, place)
    pairs, first difference first, e.g. ("missing batch normalisation", "layer 3 of 4
    (Dense 512): expected BatchNormalization after it, found none"). Empty when they agree
    or cannot be compared."""
    want = reference.get("layers", {}).get("value")
    got = student.get("layers", {}).get("value") if isinstance(student.get("layers"), dict) \
        else None
    if not (isinstance(want, list) and isinstance(got, list)) or got == want:
        return []
    total = len(want)
    if len(got) != len(want) or any(g[0] != w[0] for g, w in zip(got, want)):
        names = [str(g[0]) for g in got]
        for index, (g, w) in enumerate(zip(got, want)):
            if g[0] != w[0]:
                return [("another layer", f"{place('layer', index, total)}: expected "
                         f"{w[0]}, found {g[0]} (the layers with weights: expected "
                         f"{', '.join(w[0] for w in want)}; found {', '.join(names)})")]
        return [("another number of layers", f"expected {len(want)} layers with weights "
                 f"({', '.join(w[0] for w in want)}), found {len(got)} ({', '.join(names)})")]
    found = {}  # (rule, what differs) -> [(layer index, layer)], in the order first met
    for index, (g, w) in enumerate(zip(got, want)):
        def differs(rule, text):
            found.setdefault((rule, text), []).append((index, w[0]))

        for kind in ("normalisation", "dropout", "activation"):
            expected, actual = _following(w[2], kind), _following(g[2], kind)
            if expected == actual:
                continue
            if expected and not actual:
                differs(f"missing {_noun(kind, expected)}",
                        f"expected {' then '.join(expected)} after it, found none")
            elif actual and not expected:
                differs(f"extra {_noun(kind, actual)}",
                        f"{' then '.join(actual)} after it, expected none")
            else:
                differs(f"another {_noun(kind, expected)}",
                        f"expected {' then '.join(expected)} after it, found "
                        f"{' then '.join(actual)}")
        if g[1] != w[1]:
            if not w[1]:
                differs("a bias before batch normalisation", "expected no bias "
                        "(use_bias=False: the batch norm after it has its own), found one")
            else:
                differs("missing bias", "expected a bias, found none (use_bias=False)")
        elif g[2] != w[2] and sorted(g[2]) == sorted(w[2]):
            differs("layers in another order", f"expected {' then '.join(w[2])} after it, "
                    f"in this order; found {' then '.join(g[2])}")
    pairs = []
    for (rule, text), places in found.items():
        if len(places) == 1:
            (index, layer), = places
            sentence = f"{place('layer', index, total)} ({layer}): {text}"
        else:
            named = [f"{index + 1} ({layer})" for index, layer in places]
            sentence = (f"layers {', '.join(named[:-1])} and {named[-1]} of {total}: "
                        + text.replace("after it", "after each"))
        if "found LeakyReLU(0.3)" in text and "expected LeakyReLU(0.2)" in text:
            sentence += " (layers.LeakyReLU() slopes 0.3 unless told: pass negative_slope=0.2)"
        pairs.append((rule, sentence))
    return pairs


def structure_hint(student, reference, rules=True):
    """The first few places the network differs, in one sentence (or None), each led by
    its rule ("missing batch normalisation: layer 2 of 4 (Dense 512): ..."); without
    ``rules``, the places alone (for a reason whose rule already leads)."""
    found = _structure_differences(student, reference)
    if not found:
        return None
    more = len(found) - 3
    shown = [f"{rule}: {sentence}" if rules else sentence for rule, sentence in found[:3]]
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")



# Observations of a value's shape or gradient, beside the value itself.
_BESIDE = (": shape", ": gradient", ": weight gradients")


def _values_only(student, reference):
    """(student's value, reference value) of each case's value itself."""
    return [(student.get(key, {}).get("value") if isinstance(student.get(key), dict) else None,
             want["value"]) for key, want in reference.items() if not key.endswith(_BESIDE)]


def _loss_hint(student, reference):
    pairs = _values_only(student, reference)
    if any(isinstance(s, float) and not math.isfinite(s) for s, _ in pairs):
        return ("gives inf/nan on large logits: work on logits (from_logits=True, softplus), "
                "not log(sigmoid(x))")
    if pairs and all(_is_number(s) and math.isclose(s, -r, rel_tol=1e-3, abs_tol=1e-5)
                     for s, r in pairs):
        return "has the opposite sign: a loss is what its network minimises"
    if _arguments_swapped(student, reference):
        return ("its two arguments are swapped: the first is D's output on the real "
                "images, the second on the fakes (real, fake), as the signature names them")
    return None


_SWAPPED = ": arguments swapped"


def _arguments_swapped(student, reference):
    """True when the student's function with its two arguments swapped (the probe's
    ``... : arguments swapped`` observations, not judged) gives the reference's value in
    every case, and unswapped it does not in some."""
    cases = [key for key in reference if key + _SWAPPED in reference]
    if not cases:
        return False

    def value(key):
        got = student.get(key)
        return got.get("value") if isinstance(got, dict) else None

    def close(a, b):
        return _is_number(a) and _is_number(b) and math.isclose(a, b, rel_tol=1e-4,
                                                                abs_tol=1e-5)

    return (all(close(value(key + _SWAPPED), reference[key]["value"]) for key in cases)
            and not all(close(value(key), reference[key]["value"]) for key in cases))


def _train_step_hint(student, reference):
    def same(key):
        return first_difference(student.get(key), reference[key]) is None

    def crossed(mine, theirs):  # the student's ``mine`` is the reference's ``theirs``
        return first_difference(student.get(mine), reference[theirs]) is None

    if not same("d_loss") and crossed("d_loss", "g_loss") and crossed("g_loss", "d_loss"):
        return ("the two losses are swapped: return (d_loss, g_loss), D's loss first; both "
                "updates are otherwise as expected" if same("discriminator weights")
                and same("generator weights") else "the two losses are swapped: return "
                "(d_loss, g_loss), D's loss first")
    flags = [key for key in ("D training flags", "G training flags") if key in reference]
    if not all(same(key) for key in flags):
        return ("call both networks with training=True inside the step (batch normalisation "
                "and dropout behave as in training only then)")
    if not same("d_loss"):
        return ("the losses were the probe's own here, so D saw other inputs: update D "
                "first, on real_images and G(z) from the generator before its update")
    if same("discriminator weights") and not same("generator weights"):
        return ("D's update is right but G's is not: after D's update, compute G's loss "
                "with a fresh forward pass through the updated D")
    return None


def _discriminator_hint(student, reference):
    got = student.get("activations", {})
    if isinstance(got, dict) and isinstance(got.get("value"), list) \
            and "sigmoid" in got["value"] and "sigmoid" not in reference["activations"]["value"]:
        return "D must output logits (no sigmoid): the losses apply it"
    return None


def _close(a, b):
    return _is_number(a) and _is_number(b) and math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-5)


def _penalty_hint(student, reference):
    """The usual mistakes in WGAN-GP's penalty, told apart by the cases: a linear critic
    (whose gradient is w everywhere), and one pair of images at alpha all 0 and all 1."""
    def value(key):
        got = student.get(key)
        return got.get("value") if isinstance(got, dict) else None

    linear = [(value(key), want["value"], want["norm"], want["batch"])
              for key, want in reference.items() if "norm" in want]
    patterns = [
        (lambda norm, batch: (math.sqrt(batch) * norm - 1) ** 2,
         "one norm over the whole batch: take it per image, over its pixels and channels "
         "(axis [1, 2, 3]), then the mean over the batch"),
        (lambda norm, batch: (norm ** 2 - 1) ** 2,
         "the squared norm: take the square root of the sum of squares"),
        (lambda norm, batch: norm ** 2,
         "the '- 1' is missing: the penalty pulls each gradient's norm towards 1"),
        (lambda norm, batch: norm,
         "the '- 1' is missing: the penalty pulls each gradient's norm towards 1"),
        (lambda norm, batch: max(norm - 1, 0) ** 2,
         "one-sided: (||g|| - 1)^2 counts below 1 too"),
        (lambda norm, batch: 10 * (norm - 1) ** 2,
         "lambda is not part of it: the training step multiplies the penalty by it"),
    ]
    if linear and any(not _close(got, want) for got, want, _, _ in linear):
        for pattern, hint in patterns:  # the same mistake in every linear case
            if all(_close(got, pattern(norm, batch)) for got, _, norm, batch in linear):
                return hint
    values = [key for key in reference if not key.endswith(_BESIDE)]
    at = {}
    for key, want in ((key, reference[key]) for key in values):
        for alpha in ("0", "1"):
            if key.startswith(f"a conv critic, alpha all {alpha} "):
                at[alpha] = (value(key), want["value"])
    if len(at) == 2:
        (got0, want0), (got1, want1) = at["0"], at["1"]
        if _close(got0, want1) and _close(got1, want0):
            return "real and fake swapped: x_hat = alpha * real + (1 - alpha) * fake"
        if _close(got0, 1.0) and _close(got1, want1) or _close(got1, 1.0) and _close(got0, want0):
            return ("a zero gradient at alpha 0 or 1: take the gradient with respect to x_hat "
                    "itself (tape.watch(x_hat)), not real or fake")
        if _close(got0, want1) and _close(got1, want1):
            return "the gradient is taken at the real images: take it at x_hat"
        if _close(got0, want0) and _close(got1, want0):
            return "the gradient is taken at the fakes: take it at x_hat"
        mixed = [key for key in values if key.startswith("a conv critic, alpha random")]
        if _close(got0, want0) and _close(got1, want1) and any(
                not _close(value(key), reference[key]["value"]) for key in mixed):
            return ("alpha is one number per image, shape (N, 1, 1, 1): mix each pair with its "
                    "own alpha, as given (no reshape, no single alpha for the batch)")
    return None


def _scale_hint(student, reference):
    """Pixels scaled to [0, 1] (x / 255) in every case, whatever else differs."""
    pairs = [(np.asarray(s, float), np.asarray(w, float))
             for s, w in _values_only(student, reference)
             if isinstance(s, list) and isinstance(w, list) and len(s) == len(w)]
    pairs = [(s, w) for s, w in pairs if s.shape == w.shape and w.size]
    if pairs and all(np.allclose(s, (w + 1) / 2, atol=1e-3) for s, w in pairs):
        return ("the pixels are scaled to [0, 1]: the generator's tanh makes [-1, 1], so "
                "scale to [-1, 1] (x / 127.5 - 1)")
    return None


def _coverage_hint(student, reference):
    """The usual mistakes in VEEGAN's coverage, told apart by the cases each aims at."""
    def pair(word, measure):
        key = next((k for k in reference if word in k and k.endswith(measure)), None)
        got = student.get(key) if key else None
        return ((got.get("value") if isinstance(got, dict) else None),
                reference[key]["value"]) if key else (None, None)

    def right(word, measure):
        got, want = pair(word, measure)
        return _is_number(got) and math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6)

    qualities = [(value, want["value"]) for key, want in reference.items()
                 if key.endswith(": high quality")
                 for value in [(student.get(key) or {}).get("value")
                               if isinstance(student.get(key), dict) else None]]
    if qualities and any(w > 0 for _, w in qualities) and all(
            _is_number(g) and math.isclose(g, 100 * w, rel_tol=1e-4, abs_tol=1e-6)
            for g, w in qualities):
        return "the high-quality share is a fraction of all N points, in [0, 1], not a percentage"
    if not right("between ring modes", ": modes"):
        return ("a mode is covered only by a high-quality point (within 3 std of its nearest "
                "mean): points far from every mean cover nothing")
    if not right("just inside 3 std", ": high quality"):
        return ("a point is of high quality when its distance to its nearest mean is at most "
                "3 standard deviations (3 * std)")
    if not right("exactly 3 std", ": high quality"):
        return ("a point is of high quality when its distance to its nearest mean is at most "
                "3 standard deviations: one exactly 3 * std away counts (<=, not <)")
    if not right("grid's edges", ": modes") and right("grid's edges", ": high quality"):
        return ("one high-quality point is enough to cover its nearest mean (at least one: "
                ">= 1, not > 1)")
    if not right("just inside 3 std", ": modes"):
        return ("a point is of high quality when its distance to its nearest mean is at most "
                "3 standard deviations (3 * std)")
    if not right("wide Gaussians", ": modes") and right("grid's edges", ": modes"):
        return "each high-quality point covers its nearest mean only, not every mean near it"
    return None


def _slerp_hint(student, reference):
    """Linear interpolation where spherical is asked: in every case with codes at an angle
    the student's points are (1 - t) z0 + t z1 (the reference observation keeps t and the
    two codes: inputs, not answers)."""
    linear, curved = [], False
    for key, want in reference.items():
        if "t" not in want or "ends" not in want:
            continue
        got = student.get(key)
        got = _as_array(got.get("value")) if isinstance(got, dict) else None
        t = np.asarray(want["t"], float)[:, None]
        z0, z1 = (np.asarray(end, float) for end in want["ends"])
        lerp = (1 - t) * z0 + t * z1
        expected = np.asarray(want["value"], float)
        if np.allclose(lerp, expected, rtol=1e-4, atol=1e-6):
            continue  # parallel codes: the same either way
        curved = True
        linear.append(got is not None and got.shape == lerp.shape
                      and np.allclose(got, lerp, rtol=1e-4, atol=1e-6))
    if curved and all(linear):
        return ("linear instead of spherical interpolation: (1 - t) z0 + t z1 cuts through "
                "the sphere (its points are shorter than the codes); slerp follows the great "
                "circle, (sin((1 - t) omega) z0 + sin(t omega) z1) / sin(omega), omega the "
                "angle between z0 and z1")
    return None


def _pack_hint(student, reference):
    """Packs that drop the wrong samples, or none, when m does not divide N."""
    def same(key):
        return first_difference(student.get(key), reference[key]) is None

    shapes = [key for key in reference if key.endswith(": shape")]
    uneven = [key for key in shapes if "not divisible" in key or "(N odd)" in key]
    if uneven and not all(same(key) for key in uneven) and all(
            same(key) for key in shapes if key not in uneven):
        return ("when m does not divide N the last N mod m samples sit out: pack the first "
                "N // m * m")
    single = [key for key in reference if "m = 1" in key]
    if single and not all(same(key) for key in single):
        return "with m = 1 each pack is one sample: the samples come back as they are"
    return None


HINTS = {
    "scale_images": _scale_hint,
    "discriminator_loss": _loss_hint,
    "generator_loss_minimax": _loss_hint,
    "generator_loss_non_saturating": _loss_hint,
    "train_step": _train_step_hint,
    "gradient_penalty": _penalty_hint,
    "hinge_discriminator_loss": _loss_hint,
    "mode_coverage": _coverage_hint,
    "pack_samples": _pack_hint,
    "slerp": _slerp_hint,
    "build_discriminator": _discriminator_hint,
    "build_dcgan_discriminator": _discriminator_hint,
}


# Observations of a network's counts and outputs: where one differs, the place in the
# network (a missing batch norm, dropout, activation or bias) leads the reason, the count
# follows. Where a rule differs (activations, dropout rates...), the rule leads.
_COUNTS = ("output shape", "training mode matters", "trainable parameters", "outputs")


def compare(name, student, reference: dict):
    """(passed, reason): reason names the first observation that differs, where in the
    student's code when that can be told, and a hint."""
    if not isinstance(student, dict):
        return False, "no observations came back"
    for key, want in reference.items():
        if want.get("judged") is False:  # for the reasons only (a network's layers)
            continue
        difference = first_difference(student.get(key), want)
        if difference:
            counts = key in _COUNTS
            hints = []
            for hint in (lambda s, r: structure_hint(s, r, rules=counts), HINTS.get(name)):
                try:
                    hints.append(hint(student, reference) if hint else None)
                except Exception:  # noqa: BLE001  a hint is never worth a crash
                    hints.append(None)
            where, hint = hints
            # One order: the rule, what is wrong and where, then the numbers. The rule is
            # the structure's when a count differs ("missing batch normalisation: layer 2
            # of 4 (Dense 512): ... (trainable parameters: expected ..., got ...)"), else
            # the observation's ("d_loss returned by one step: the two losses are
            # swapped: ... (expected 1.97, got 2.22)").
            rule = f"{want['what']}: "
            if where and counts:
                return False, f"{where} ({difference})" + (f" ({hint})" if hint else "")
            if not difference.startswith(rule):  # not measured, or nothing to say first
                return False, difference + "".join(f" ({t})" for t in (where, hint) if t)
            numbers = difference[len(rule):]
            said = "; ".join(t for t in (hint, where) if t)
            return False, rule + (f"{said} ({numbers})" if said else numbers)
    return True, ""
