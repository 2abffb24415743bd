"""Training speed: gan_lab's ``fit()`` against the loop the TensorFlow DCGAN tutorial teaches.

``python -m gan_lab bench [--quick] [--out bench.json]`` trains each model on 60,000
synthetic 28x28 images (a full MNIST epoch's worth), interleaving a baseline run and gan_lab
runs (``VARIANTS``: the defaults, then one setting changed at a time) per model, each in a
fresh process (so each has its own peak memory), and prints steady-state images/s after
warm-up, seconds per 60,000-image epoch, peak memory, the FLOPs of one training step (counted
from the layers), the GFLOP/s achieved and their share of this machine's matmul ceiling in
the precision each computes in (``matmul_ceiling_gflops``).

The baseline is written the way the tutorial writes it: two tapes in one ``@tf.function``
(no XLA), G's output shared by both updates, ``from_tensor_slices().shuffle().batch()``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time

from .. import runtime

EPOCH_IMAGES = 60_000
CASES = (("gan", 128), ("dcgan", 128), ("dcgan", 256))
# The loops compared, by name: the baseline, gan_lab's defaults, and gan_lab with one setting
# changed (GAN.compile keywords; "deterministic" goes to runtime.configure).
VARIANTS = {
    "baseline": None,
    "gan_lab": {},
    "gan_lab simultaneous": {"update": "simultaneous"},
    "gan_lab XLA": {"jit_compile": True},
    "gan_lab no XLA": {"jit_compile": False},
    "gan_lab op determinism": {"deterministic": True},
    "gan_lab steps_per_execution 8": {"steps_per_execution": 8},
    "gan_lab float32": {"precision": "float32"},
    "gan_lab mixed_bfloat16": {"precision": "mixed_bfloat16"},
}
# Settings that are not GAN.compile keywords: they go to runtime.configure.
PROCESS_SETTINGS = ("deterministic", "precision")
QUICK_VARIANTS = ("baseline", "gan_lab")
FULL_VARIANTS = ("baseline", "gan_lab", "gan_lab simultaneous")
LEVER_VARIANTS = ("gan_lab XLA", "gan_lab no XLA", "gan_lab op determinism",
                  "gan_lab steps_per_execution 8")
LEVER_CASES = (("gan", 128), ("dcgan", 128))
# Only where runtime.bfloat16_hardware(): both policies beside the default (one of them).
BFLOAT16_VARIANTS = ("gan_lab float32", "gan_lab mixed_bfloat16")


# --- FLOPs, counted from the layers ------------------------------------------------------


def forward_flops(model) -> int:
    """Multiply-adds x 2 of one forward pass of one sample through Dense and conv layers."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            total += 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
        elif isinstance(layer, layers.Conv2DTranspose):  # before Conv2D: it subclasses it
            height, width = layer.input.shape[1:3]
            kh, kw, cout, cin = layer.kernel.shape
            total += 2 * kh * kw * cin * cout * height * width
        elif isinstance(layer, layers.Conv2D):
            height, width = layer.output.shape[1:3]
            kh, kw, cin, cout = layer.kernel.shape
            total += 2 * kh * kw * cin * cout * height * width
    return int(total)


def step_flops(generator_flops, discriminator_flops, update="simultaneous") -> int:
    """FLOPs of one training step per image, counting a backward pass as 2 forward passes.

    Both updates share one forward pass of G (G). "simultaneous" (the baseline's): D forward
    on real and fake (2 D), D's backward for both (4 D), G's backward through D and G
    (2 D + 2 G): 3 G + 8 D. "alternating" (gan_lab's default) adds one forward pass of the
    updated D on the fakes before G's backward: 3 G + 9 D.
    """
    g, d = generator_flops, discriminator_flops
    return 3 * g + 9 * d if update == "alternating" else 3 * g + 8 * d


CEILING_SIZES = (1024, 2048, 4096)


def matmul_ceiling_gflops(dtype="float32", sizes=CEILING_SIZES, repeats=3,
                          seconds=1.0) -> float:
    """The machine's arithmetic ceiling in ``dtype``: GFLOP/s (2 n^3 per n x n matmul) of the
    best of ``repeats`` timings for each size in ``sizes``, each a graph that chains matmuls
    (so no Python or dispatch time is counted), after a warm-up call that also compiles it.
    A training step runs smaller, thinner products than these, so its share of this ceiling
    is at most 100%."""
    import tensorflow as tf

    best = 0.0
    for size in sizes:
        a = tf.random.normal((size, size), dtype=tf.float32)
        scale = tf.constant(1.0 / size**0.5)
        a, scale = tf.cast(a, dtype), tf.cast(scale, dtype)
        chain = max(1, int(2e10 // (2 * size**3)))  # about 20 GFLOP per call

        @tf.function
        def multiply(x, chain=chain):
            for _ in tf.range(chain):
                x = tf.matmul(x, a) * scale  # scaled so values neither vanish nor blow up
            return tf.reduce_sum(tf.cast(x[:1, :1], tf.float32))

        multiply(a).numpy()
        for _ in range(repeats):
            count, started = 0, time.perf_counter()
            while count == 0 or time.perf_counter() - started < seconds:
                multiply(a).numpy()
                count += 1
            elapsed = time.perf_counter() - started
            best = max(best, count * chain * 2 * size**3 / elapsed / 1e9)
    return best


# --- one measurement, in its own process -------------------------------------------------


def _images():
    import numpy as np

    return np.random.default_rng(0).uniform(-1, 1, (EPOCH_IMAGES, 28, 28, 1)).astype("float32")


def tutorial_train_step(generator, discriminator, learning_rate=1e-4, beta_1=0.9):
    """The TensorFlow DCGAN tutorial's training step, as it writes it: two tapes in one
    ``@tf.function`` (no XLA), G's output shared by both updates, Adam(1e-4) for each
    network, cross-entropy on logits. Returns step(real) -> D's loss, real images
    (N, H, W, C) in [-1, 1]."""
    import keras
    import tensorflow as tf

    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    g_optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1)
    d_optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1)
    latent_dim = generator.inputs[0].shape[-1]

    @tf.function
    def train_step(real):
        noise = tf.random.normal([tf.shape(real)[0], latent_dim])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_logits = discriminator(real, training=True)
            fake_logits = discriminator(fake, training=True)
            g_loss = cross_entropy(tf.ones_like(fake_logits), fake_logits)
            d_loss = (cross_entropy(tf.ones_like(real_logits), real_logits)
                      + cross_entropy(tf.zeros_like(fake_logits), fake_logits))
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                        discriminator.trainable_variables))
        return d_loss

    return train_step


def _baseline_seconds(generator, discriminator, images, batch, warmup, steps):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(EPOCH_IMAGES).batch(batch)
    train_step = tutorial_train_step(generator, discriminator)
    batches = iter(dataset.repeat())
    for _ in range(warmup):
        train_step(next(batches))
    started = time.perf_counter()
    for _ in range(steps):
        loss = train_step(next(batches))
    float(loss)  # wait for the last step
    return (time.perf_counter() - started) / steps


def _gan_lab_seconds(generator, discriminator, images, batch, warmup, steps, settings):
    """Seconds per step of one fit(), timed from the end of warm-up to its last batch."""
    import keras

    from ..data import make_dataset
    from ..gan import GAN

    gan = GAN(generator, discriminator, seed=0)
    gan.compile(**{k: v for k, v in settings.items() if k not in PROCESS_SETTINGS})
    marks = []  # (last step done, time); every steps_per_execution steps

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            marks.append((batch, time.perf_counter()))

    dataset = make_dataset(images, batch, epochs=1)
    gan.fit(dataset, epochs=1, steps_per_epoch=warmup + steps, verbose=0, callbacks=[Clock()])
    start_step, started = next(m for m in marks if m[0] >= warmup - 1)
    end_step, ended = marks[-1]
    return (ended - started) / (end_step - start_step)


def measure(variant, model, batch, warmup, steps) -> dict:
    """Images/s of ``steps`` training steps after ``warmup`` steps, and peak memory (MB),
    for one of ``VARIANTS``."""
    import resource

    import keras

    settings = VARIANTS[variant]
    if settings is None:  # the tutorial's: float32, TensorFlow's defaults
        runtime.configure(mixed_precision="float32")
    else:  # what runs.train does
        runtime.configure(mixed_precision=settings.get("precision", "auto"),
                          deterministic=settings.get("deterministic", False))
    from ..models import build_pair

    keras.utils.set_random_seed(0)
    generator, discriminator = build_pair(model)
    if settings is None:
        seconds = _baseline_seconds(generator, discriminator, _images(), batch, warmup, steps)
    else:
        seconds = _gan_lab_seconds(generator, discriminator, _images(), batch, warmup, steps,
                                   settings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return {"images_per_s": batch / seconds, "peak_memory_mb": peak,
            "policy": runtime.precision()}


def _measure_in_child(variant, model, batch, warmup, steps):
    spec = json.dumps([variant, model, batch, warmup, steps])
    done = subprocess.run([sys.executable, "-m", "gan_lab.bench.speed", "--one", spec],
                          capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode != 0:
        raise RuntimeError(f"benchmark run {spec} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark ----------------------------------------------------------------


def run_benchmark(quick=False, log=print) -> dict:
    """Alternate the variants' runs for every case; return the results as a dict.

    Quick: the baseline and gan_lab, 4 timed steps. Full: also the simultaneous update,
    and for one batch size per model each lever switched in turn (float32 and
    mixed_bfloat16 only on bfloat16 hardware). Each row's GFLOP/s is given as a share of
    the matmul ceiling of the precision it computes in.
    """
    import keras
    import tensorflow as tf

    from ..models import build_pair

    warmup, steps, repeats = (2, 4, 1) if quick else (5, 30, 2)
    bfloat16 = runtime.bfloat16_hardware()
    levers = LEVER_VARIANTS + (BFLOAT16_VARIANTS if bfloat16 else ())
    # A case's variants run side by side, so each is compared with a baseline measured
    # minutes, not a quarter of an hour, apart (a shared machine's speed drifts).
    plan = [(model, batch, variant) for model, batch in CASES
            for variant in (QUICK_VARIANTS if quick else FULL_VARIANTS + (
                levers if (model, batch) in LEVER_CASES else ()))]
    timing = {"sizes": (2048,), "repeats": 2, "seconds": 0.5} if quick else {}
    ceiling = {"float32": matmul_ceiling_gflops("float32", **timing)}
    if bfloat16 and not quick:
        ceiling["bfloat16"] = matmul_ceiling_gflops("bfloat16")
    results = {"device": runtime.describe_device(), "cpu": runtime.cpu_name(),
               "tensorflow": tf.__version__, "keras": keras.__version__,
               "python": platform.python_version(), "machine": platform.machine(),
               "xla_by_default": runtime.xla_by_default(), "bfloat16_hardware": bfloat16,
               "warmup_steps": warmup, "timed_steps": steps, "repeats": repeats, "rows": []}
    for precision, value in ceiling.items():
        log(f"  {precision} matmul ceiling: {value:.0f} GFLOP/s")
    runs = {}
    for repeat in range(repeats):
        for model, batch, variant in plan:  # interleaved, so drift hits every variant alike
            log(f"  {variant:<30} {model:<5} batch {batch}, run {repeat + 1}/{repeats}")
            runs.setdefault((model, batch, variant), []).append(
                _measure_in_child(variant, model, batch, warmup, steps))
    # The precision each row computes in is what its process ran under (the defaults may
    # choose a mixed policy); a ceiling not measured yet is measured now.
    computes = {key: keras.DTypePolicy(measured[0]["policy"]).compute_dtype
                for key, measured in runs.items()}
    for precision in sorted(set(computes.values()) - set(ceiling)):
        ceiling[precision] = matmul_ceiling_gflops(precision, **timing)
        log(f"  {precision} matmul ceiling: {ceiling[precision]:.0f} GFLOP/s")
    results["matmul_ceiling_gflop_per_s"] = {k: round(v, 1) for k, v in ceiling.items()}
    flops = {}
    for model, batch, variant in plan:
        if model not in flops:
            generator, discriminator = build_pair(model)
            flops[model] = forward_flops(generator), forward_flops(discriminator)
        settings = VARIANTS[variant]
        update = "simultaneous" if settings is None else settings.get("update", "alternating")
        precision = computes[(model, batch, variant)]
        step = step_flops(*flops[model], update)
        measured = runs[(model, batch, variant)]
        speed = statistics.median(m["images_per_s"] for m in measured)
        baseline = statistics.median(m["images_per_s"] for m in runs[(model, batch, "baseline")])
        results["rows"].append({
            "model": model, "batch": batch, "loop": variant, "precision": precision,
            "images_per_s": round(speed, 1),
            "seconds_per_epoch": round(EPOCH_IMAGES / speed, 1),
            "peak_memory_mb": round(max(m["peak_memory_mb"] for m in measured)),
            "mflop_per_image": round(step / 1e6, 1),
            "gflop_per_s": round(speed * step / 1e9, 1),
            "share_of_ceiling": round(speed * step / 1e9 / ceiling[precision], 2),
            "vs_baseline": round(speed / baseline, 2),
        })
    return results


def table(results) -> str:
    """The results as a Markdown table (docs/performance.md, written there by bench --doc)."""
    from tabulate import tabulate

    ceilings = ", ".join(f"{precision} {value:,.0f}" for precision, value
                         in results["matmul_ceiling_gflop_per_s"].items())
    caption = (f"CPU: {results['cpu']}; device: {results['device']}, {results['machine']}; "
               f"TensorFlow {results['tensorflow']}; XLA by default: "
               f"{'yes' if results['xla_by_default'] else 'no'}; matmul ceiling (GFLOP/s): "
               f"{ceilings}; {results['timed_steps']} timed steps after "
               f"{results['warmup_steps']} warm-up, median of {results['repeats']} run(s).")
    body = [[row["model"], row["batch"], row["loop"], f"{row['images_per_s']:,.0f}",
             f"{row['seconds_per_epoch']:,.0f}", f"{row['peak_memory_mb']:,}",
             row["mflop_per_image"], row["gflop_per_s"],
             f"{row['share_of_ceiling']:.0%} of {row['precision']}",
             f"{row['vs_baseline']:.2f}x"] for row in results["rows"]]
    headers = ["model", "batch", "loop", "images/s", "s per 60k epoch", "peak MB",
               "MFLOP/image", "GFLOP/s", "of matmul ceiling", "vs baseline"]
    return caption + "\n\n" + tabulate(body, headers, tablefmt="github", disable_numparse=True)


if __name__ == "__main__":  # one measurement: python -m gan_lab.bench.speed --one '[...]'
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(*json.loads(sys.argv[2]))))
