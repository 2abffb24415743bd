"""Where training runs: GPU set-up when one is present, and a line saying which device."""

from __future__ import annotations

import os

import keras
import tensorflow as tf


def gpus():
    return tf.config.list_physical_devices("GPU")


def configure(mixed_precision="auto", deterministic=False) -> None:
    """Prepare TensorFlow for this machine; call once before building models.

    On a GPU: memory growth (so a notebook does not take the whole card) and, with
    ``mixed_precision="auto"`` or True, the ``mixed_float16`` policy (models keep their
    outputs and losses in float32). On a CPU: float32. Device placement is left to
    TensorFlow.

    ``deterministic=True`` turns on TensorFlow's op determinism. It is off by default
    because with it TensorFlow runs ``jit_compile`` train steps without XLA (measured: the
    same weights as without XLA, and 15% slower for the DCGAN here); on a CPU the XLA
    step repeats bit for bit without it (same weights in 8 runs, some with the other core
    busy), and resumed runs are tested to equal uninterrupted ones. On a GPU, XLA's
    reductions are not deterministic: pass True there for repeatable runs (once on, it
    stays on in this process).
    """
    devices = gpus()
    if deterministic:  # process-wide, and TensorFlow has no public way to undo it
        tf.config.experimental.enable_op_determinism()
    for device in devices:
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except RuntimeError:  # already initialised, e.g. a second call in a notebook
            pass
    use_mixed = bool(devices) if mixed_precision == "auto" else bool(mixed_precision)
    keras.mixed_precision.set_global_policy("mixed_float16" if use_mixed else "float32")


def describe_device() -> str:
    """'GPU: <name>' for the first GPU, else 'CPU (<n> cores)'."""
    devices = gpus()
    if devices:
        details = tf.config.experimental.get_device_details(devices[0])
        name = details.get("device_name", devices[0].name)
        more = f" (+{len(devices) - 1} more)" if len(devices) > 1 else ""
        return f"GPU: {name}{more}"
    return f"CPU ({os.cpu_count()} cores)"
