"""Training speed: gan_lab's ``fit()`` against the loop the TensorFlow DCGAN tutorial teaches.

``python -m gan_lab bench [--quick] [--out bench.json]`` trains each model on 60,000
synthetic 28x28 images (a full MNIST epoch's worth), interleaving a baseline run and gan_lab
runs (``VARIANTS``: the defaults, then one setting changed at a time) per model, each in a
fresh process (so each has its own peak memory), and prints steady-state images/s after
warm-up, seconds per 60,000-image epoch, peak memory, the FLOPs of one training step (counted
from the layers), the GFLOP/s achieved and their share of this machine's float32 matmul peak.

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

EPOCH_IMAGES = 60_000
CASES = (("gan", 128), ("dcgan", 128), ("dcgan", 256))
# The loops compared, by name: the baseline, gan_lab's defaults, and gan_lab with one setting
# changed (GAN.compile keywords; "deterministic" goes to runtime.configure).
VARIANTS = {
    "baseline": None,
    "gan_lab": {},
    "gan_lab simultaneous": {"update": "simultaneous"},
    "gan_lab no XLA": {"jit_compile": False},
    "gan_lab op determinism": {"deterministic": True},
    "gan_lab steps_per_execution 8": {"steps_per_execution": 8},
}
QUICK_VARIANTS = ("baseline", "gan_lab")
FULL_VARIANTS = ("baseline", "gan_lab", "gan_lab simultaneous")
LEVER_VARIANTS = ("gan_lab no XLA", "gan_lab op determinism", "gan_lab steps_per_execution 8")
LEVER_CASES = (("gan", 128), ("dcgan", 128))


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


def matmul_peak_gflops(size=2048, seconds=2.0) -> float:
    """GFLOP/s of a float32 (size x size) matmul on this machine: the practical ceiling."""
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    multiply = tf.function(lambda: tf.matmul(a, b))
    multiply().numpy()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        result = multiply()
        count += 1
    result.numpy()
    return count * 2 * size**3 / (time.perf_counter() - started) / 1e9


# --- one measurement, in its own process -------------------------------------------------


def _images():
    import numpy as np

    return np.random.default_rng(0).uniform(-1, 1, (EPOCH_IMAGES, 28, 28, 1)).astype("float32")


def _baseline_seconds(generator, discriminator, images, batch, warmup, steps):
    import keras
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(EPOCH_IMAGES).batch(batch)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    g_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    d_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)

    @tf.function
    def train_step(real):
        noise = tf.random.normal([batch, 100])
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

    from .data import make_dataset
    from .gan import GAN

    gan = GAN(generator, discriminator, seed=0)
    gan.compile(**{k: v for k, v in settings.items() if k != "deterministic"})
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

    from . import runtime
    from .models import build_pair

    settings = VARIANTS[variant]
    if settings is not None:  # what runs.train does; the baseline gets TF's defaults
        runtime.configure(deterministic=settings.get("deterministic", False))
    keras.utils.set_random_seed(0)
    generator, discriminator = build_pair(model)
    if settings is None:
        seconds = _baseline_seconds(generator, discriminator, _images(), batch, warmup, steps)
    else:
        seconds = _gan_lab_seconds(generator, discriminator, _images(), batch, warmup, steps,
                                   settings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return {"images_per_s": batch / seconds, "peak_memory_mb": peak}


def _measure_in_child(variant, model, batch, warmup, steps):
    spec = json.dumps([variant, model, batch, warmup, steps])
    done = subprocess.run([sys.executable, "-m", "gan_lab.bench", "--one", spec],
                          capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode != 0:
        raise RuntimeError(f"benchmark run {spec} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark ----------------------------------------------------------------


def run_benchmark(quick=False, log=print) -> dict:
    """Alternate the variants' runs for every case; return the results as a dict.

    Quick: the baseline and gan_lab, 4 timed steps. Full: also the simultaneous update,
    and for one batch size per model each lever switched off in turn.
    """
    import keras
    import tensorflow as tf

    from . import runtime
    from .models import build_pair

    warmup, steps, repeats = (2, 4, 1) if quick else (5, 30, 2)
    plan = [(model, batch, variant) for model, batch in CASES
            for variant in (QUICK_VARIANTS if quick else FULL_VARIANTS)]
    if not quick:
        plan += [(model, batch, variant) for model, batch in LEVER_CASES
                 for variant in LEVER_VARIANTS]
    peak = matmul_peak_gflops(seconds=1.0 if quick else 3.0)
    results = {"device": runtime.describe_device(), "tensorflow": tf.__version__,
               "keras": keras.__version__, "python": platform.python_version(),
               "machine": platform.machine(), "matmul_peak_gflop_per_s": round(peak, 1),
               "warmup_steps": warmup, "timed_steps": steps, "repeats": repeats, "rows": []}
    log(f"  float32 matmul peak: {peak:.0f} GFLOP/s")
    runs = {}
    for repeat in range(repeats):
        for model, batch, variant in plan:  # interleaved, so drift hits every variant alike
            log(f"  {variant:<30} {model:<5} batch {batch}, run {repeat + 1}/{repeats}")
            runs.setdefault((model, batch, variant), []).append(
                _measure_in_child(variant, model, batch, warmup, steps))
    flops = {}
    for model, batch, variant in plan:
        if model not in flops:
            generator, discriminator = build_pair(model)
            flops[model] = forward_flops(generator), forward_flops(discriminator)
        settings = VARIANTS[variant]
        update = "simultaneous" if settings is None else settings.get("update", "alternating")
        step = step_flops(*flops[model], update)
        measured = runs[(model, batch, variant)]
        speed = statistics.median(m["images_per_s"] for m in measured)
        baseline = statistics.median(m["images_per_s"] for m in runs[(model, batch, "baseline")])
        results["rows"].append({
            "model": model, "batch": batch, "loop": variant,
            "images_per_s": round(speed, 1),
            "seconds_per_epoch": round(EPOCH_IMAGES / speed, 1),
            "peak_memory_mb": round(max(m["peak_memory_mb"] for m in measured)),
            "mflop_per_image": round(step / 1e6, 1),
            "gflop_per_s": round(speed * step / 1e9, 1),
            "share_of_peak": round(speed * step / 1e9 / peak, 2),
            "vs_baseline": round(speed / baseline, 2),
        })
    return results


def table(results) -> str:
    """The results as a Markdown table (the README's "How fast" table)."""
    from tabulate import tabulate

    caption = (f"Device: {results['device']}, {results['machine']}; TensorFlow "
               f"{results['tensorflow']}; float32 matmul peak "
               f"{results['matmul_peak_gflop_per_s']:.0f} GFLOP/s; {results['timed_steps']} "
               f"timed steps after {results['warmup_steps']} warm-up, median of "
               f"{results['repeats']} run(s).")
    body = [[row["model"], row["batch"], row["loop"], f"{row['images_per_s']:,.0f}",
             f"{row['seconds_per_epoch']:,.0f}", f"{row['peak_memory_mb']:,}",
             row["mflop_per_image"], row["gflop_per_s"], f"{row['share_of_peak']:.0%}",
             f"{row['vs_baseline']:.2f}x"] for row in results["rows"]]
    headers = ["model", "batch", "loop", "images/s", "s per 60k epoch", "peak MB",
               "MFLOP/image", "GFLOP/s", "of matmul peak", "vs baseline"]
    return caption + "\n\n" + tabulate(body, headers, tablefmt="github", disable_numparse=True)


if __name__ == "__main__":  # one measurement: python -m gan_lab.bench --one '[...]'
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(*json.loads(sys.argv[2]))))
