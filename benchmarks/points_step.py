"""Where the 2-D mixtures' training step spends its time, on this machine.

    python benchmarks/points_step.py [--repeats 3]

Prints, with the CPU named: (1) one draw of z (256, 64) by ``tf.random.stateless_normal``
with TensorFlow's "auto_select" and with Philox, in a graph and in an XLA function (the
GAN names Philox: ``GAN.random``); (2) what a batch of 256 points costs to take from
``data.make_dataset`` alone; (3) the ring's step at ``--preset equal_rates`` (G and D of two
layers of 128, batch 256), seconds per epoch of 1,000 steps through ``fit``: without XLA,
with XLA, with XLA and the noise left to "auto_select" (as before the GAN named Philox), and
on one constant batch (no input pipeline). Figures, not a test: docs/mode-collapse.md,
"Speed", and docs/performance.md, "XLA and the random numbers", quote them.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import keras
import numpy as np
import tensorflow as tf

from gan_lab.bench.report import cpu_kind
from gan_lab.config import TrainConfig
from gan_lab.data import load_images, make_dataset
from gan_lab.gan import GAN
from gan_lab.runs import compiled_gan


def milliseconds(function, repeats=200) -> float:
    function()  # traced (and compiled) first
    started = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - started) / repeats * 1e3


def draws():
    seed = tf.constant([3, 4])
    for alg in ("auto_select", "philox"):
        for jit in (False, True):
            draw = tf.function(lambda alg=alg: tf.random.stateless_normal(
                (256, 64), seed=seed, alg=alg), jit_compile=jit)
            print(f"z (256, 64), alg={alg:<11} {'XLA' if jit else 'graph':<5}: "
                  f"{milliseconds(draw):.2f} ms", flush=True)


def batches(points, steps):
    iterator = iter(make_dataset(points, 256, seed=0, epochs=5))  # 4 timings and a warm-up

    @tf.function
    def take():
        total = tf.constant(0.0)
        for _ in tf.range(steps):
            total += tf.reduce_sum(next(iterator))
        return total

    print(f"a batch of 256 points from make_dataset: {milliseconds(take, 3) / steps:.3f} ms",
          flush=True)


@contextlib.contextmanager
def noise_left_to_auto_select():
    """GAN.random as it was before it named Philox."""
    named = GAN.random

    def auto(self, draw, shape):
        return named(self, lambda shape, seed, alg: draw(shape, seed=seed), shape)

    GAN.random = auto
    try:
        yield
    finally:
        GAN.random = named


def steps_through_fit(config, data, repeats):
    steps = config.steps_per_epoch(len(data.images))  # one epoch, one call of the step loop
    rows = (("no XLA", False, contextlib.nullcontext), ("XLA", True, contextlib.nullcontext),
            ("XLA, noise by auto_select", True, noise_left_to_auto_select))
    for label, jit, noise in rows:
        with noise():
            gan = compiled_gan(config, data, jit_compile=jit)
            times = []

            class Timer(keras.callbacks.Callback):
                def on_epoch_begin(self, epoch, logs=None):
                    self.started = time.perf_counter()

                def on_epoch_end(self, epoch, logs=None):
                    times.append(time.perf_counter() - self.started)

            dataset = make_dataset(data.images, config.batch_size, seed=0, epochs=repeats + 1)
            gan.fit(dataset, epochs=repeats + 1, steps_per_epoch=steps, verbose=0,
                    callbacks=[Timer()])
        print(f"fit, {label:<26}: s per {steps} steps after the first call: "
              f"{' '.join(f'{t:.2f}' for t in times[1:])}", flush=True)
    gan = compiled_gan(config, data, jit_compile=False)
    batch = tf.constant(data.images[:config.batch_size])
    step = tf.function(gan.train_step)

    @tf.function
    def loop():
        for _ in tf.range(steps):
            step(batch)

    loop()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        loop()
        seconds.append(time.perf_counter() - started)
    print(f"one constant batch, no XLA: s per {steps} steps: "
          f"{' '.join(f'{t:.2f}' for t in seconds)}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_kind()}; TensorFlow {tf.__version__}", flush=True)
    config = TrainConfig.create("gan", preset="equal_rates")
    data = load_images(config.dataset, "train", config.source, config.data_dir, config.limit)
    config = config.sized_to(len(data.images))
    draws()
    batches(np.asarray(data.images), config.steps_per_epoch(len(data.images)))
    steps_through_fit(config, data, args.repeats)


if __name__ == "__main__":
    main()
