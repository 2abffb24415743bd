"""What a MirroredStrategy step costs against a single-device step, on this machine.

    python benchmarks/distribute_step.py [--model dcgan] [--batch 128] [--steps 20]

Splits the CPU into 2 logical devices (as the tests do), builds the same GAN three ways:
one device with XLA (gan_lab's default), one device without XLA, and mirrored over the 2
logical devices (global batch = --batch, half a replica; no XLA, which cannot compile the
mirrored step) and times --steps training steps of each after a warm-up epoch, on random
images. Prints seconds a step and the ratios. A printed figure, not a test: on one CPU the
two "devices" share the same cores, so this measures the strategy's overhead, not a speed-up.
"""

from __future__ import annotations

import argparse
import time

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

from gan_lab import runs, runtime  # noqa: E402
from gan_lab.config import TrainConfig  # noqa: E402
from gan_lab.data import as_image_set, make_dataset  # noqa: E402


def seconds_a_step(gan, images, batch, steps) -> float:
    batches = make_dataset(images, batch, seed=0, epochs=2)
    gan.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0)  # compiles the step
    started = time.perf_counter()
    gan.fit(batches, epochs=2, initial_epoch=1, steps_per_epoch=steps, verbose=0)
    return (time.perf_counter() - started) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dcgan", choices=("gan", "dcgan"))
    parser.add_argument("--batch", type=int, default=128, help="global batch (default 128)")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)

    images = np.random.default_rng(0).uniform(-1, 1, (args.batch * args.steps, 28, 28, 1))
    data = as_image_set(images.astype(np.float32), "mnist")
    config = TrainConfig.create(args.model)
    strategy = runtime.strategy("mirrored")
    timings = {}
    for label, make in (
            ("one device, XLA", lambda: runs._build_gan(config, data, None, None)),
            ("one device, no XLA", lambda: runs._compiled_gan(config, data, None, None,
                                                           jit_compile=False)),
            (f"mirrored, {strategy.num_replicas_in_sync} logical devices",
             lambda: runs._build_gan(config, data, None, None, strategy))):
        timings[label] = seconds_a_step(make(), data.images, args.batch, args.steps)
    print(f"{args.model}, global batch {args.batch}, {args.steps} timed steps; CPU: "
          f"{runtime.cpu_name()} ({runtime.describe_device()}); TensorFlow {tf.__version__}")
    first = next(iter(timings.values()))
    for label, seconds in timings.items():
        print(f"  {label:<32} {seconds * 1000:8.1f} ms a step   {seconds / first:5.2f}x")


if __name__ == "__main__":
    main()
