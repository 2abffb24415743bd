"""Training speed: gan_lab's ``fit()`` against the loop the TensorFlow DCGAN tutorial teaches.

``python -m gan_lab bench [--quick] [--out bench.json]`` trains each model on 60,000
synthetic 28x28 images (a full MNIST epoch's worth), alternating a baseline run and a
gan_lab run per model, each in a fresh process (so each has its own peak memory), and prints
steady-state images/s after warm-up, seconds per 60,000-image epoch, peak memory, the FLOPs of
one training step (counted from the layers) and the GFLOP/s achieved.

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
IMPLEMENTATIONS = ("baseline", "gan_lab")


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


def step_flops(generator_flops, discriminator_flops, implementation) -> int:
    """FLOPs of one training step per image, counting a backward pass as 2 forward passes.

    gan_lab (D, then G through the updated D): D's update runs G once and D twice forward,
    D twice backward (G + 6 D); G's update runs G and D forward and back (3 G + 3 D).
    baseline (one G pass shared by both tapes): G + 2 D forward, D's tape 2 D backward,
    G's tape D and G backward: 3 G + 8 D.
    """
    g, d = generator_flops, discriminator_flops
    return 4 * g + 9 * d if implementation == "gan_lab" else 3 * g + 8 * d


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
    return time.perf_counter() - started


def _gan_lab_seconds(generator, discriminator, images, batch, warmup, steps):
    from .data import make_dataset
    from .gan import GAN

    gan = GAN(generator, discriminator, seed=0)
    gan.compile()
    dataset = make_dataset(images, batch, epochs=1_000)
    gan.fit(dataset, epochs=1, steps_per_epoch=warmup, verbose=0)
    started = time.perf_counter()
    gan.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - started


def measure(implementation, model, batch, warmup, steps) -> dict:
    """Images/s of ``steps`` training steps after ``warmup`` steps, and peak memory (MB)."""
    import resource

    import keras

    from . import runtime
    from .models import build_pair

    if implementation == "gan_lab":
        runtime.configure()  # what runs.train does; the baseline gets TensorFlow's defaults
    keras.utils.set_random_seed(0)
    generator, discriminator = build_pair(model)
    run = _gan_lab_seconds if implementation == "gan_lab" else _baseline_seconds
    seconds = run(generator, discriminator, _images(), batch, warmup, steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return {"images_per_s": steps * batch / seconds, "peak_memory_mb": peak}


def _measure_in_child(implementation, model, batch, warmup, steps):
    spec = json.dumps([implementation, model, batch, warmup, steps])
    done = subprocess.run([sys.executable, "-m", "gan_lab.bench", "--one", spec],
                          capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    if done.returncode != 0:
        raise RuntimeError(f"benchmark run {spec} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the whole benchmark ----------------------------------------------------------------


def run_benchmark(quick=False, log=print) -> dict:
    """Alternate baseline and gan_lab runs for every case; return the results as a dict."""
    import keras
    import tensorflow as tf

    from . import runtime
    from .models import build_pair

    warmup, steps, repeats = (2, 4, 1) if quick else (5, 30, 2)
    results = {"device": runtime.describe_device(), "tensorflow": tf.__version__,
               "keras": keras.__version__, "python": platform.python_version(),
               "machine": platform.machine(),
               "warmup_steps": warmup, "timed_steps": steps, "repeats": repeats, "cases": []}
    runs = {}
    for repeat in range(repeats):
        for model, batch in CASES:
            for implementation in IMPLEMENTATIONS:  # alternate, so drift hits both alike
                log(f"  {implementation:<8} {model:<5} batch {batch}, run {repeat + 1}/{repeats}")
                runs.setdefault((model, batch, implementation), []).append(
                    _measure_in_child(implementation, model, batch, warmup, steps))
    for model, batch in CASES:
        generator, discriminator = build_pair(model)
        g_flops, d_flops = forward_flops(generator), forward_flops(discriminator)
        case = {"model": model, "batch": batch}
        for implementation in IMPLEMENTATIONS:
            measured = runs[(model, batch, implementation)]
            speed = statistics.median(m["images_per_s"] for m in measured)
            flops = step_flops(g_flops, d_flops, implementation)
            case[implementation] = {
                "images_per_s": round(speed, 1),
                "seconds_per_epoch": round(EPOCH_IMAGES / speed, 1),
                "peak_memory_mb": round(max(m["peak_memory_mb"] for m in measured)),
                "mflop_per_image": round(flops / 1e6, 1),
                "gflop_per_s": round(speed * flops / 1e9, 1),
            }
        case["ratio"] = round(case["gan_lab"]["images_per_s"] / case["baseline"]["images_per_s"], 2)
        results["cases"].append(case)
    return results


def table(results) -> str:
    """The results as a Markdown table (the README's "How fast" table)."""
    lines = [f"Device: {results['device']}, {results['machine']}; TensorFlow "
             f"{results['tensorflow']}; {results['timed_steps']} timed steps after "
             f"{results['warmup_steps']} warm-up, median of {results['repeats']} run(s).", "",
             "| model | batch | loop | images/s | s per 60k epoch | peak MB | MFLOP/image "
             "| GFLOP/s | gan_lab / baseline |",
             "|---|---|---|---|---|---|---|---|---|"]
    for case in results["cases"]:
        for implementation in IMPLEMENTATIONS:
            m = case[implementation]
            ratio = f"{case['ratio']:.2f}x" if implementation == "gan_lab" else ""
            lines.append(f"| {case['model']} | {case['batch']} | {implementation} | "
                         f"{m['images_per_s']:,.0f} | {m['seconds_per_epoch']:,.0f} | "
                         f"{m['peak_memory_mb']:,} | {m['mflop_per_image']} | "
                         f"{m['gflop_per_s']} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":  # one measurement: python -m gan_lab.bench --one '[...]'
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(*json.loads(sys.argv[2]))))
