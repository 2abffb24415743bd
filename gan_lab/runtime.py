"""Where training runs: GPU set-up when one is present, and a line saying which device."""

from __future__ import annotations

import os

import keras
import tensorflow as tf


def gpus():
    return tf.config.list_physical_devices("GPU")


def configure(mixed_precision="auto", deterministic="auto") -> None:
    """Prepare TensorFlow for this machine; call once before building models.

    On a GPU: memory growth (so a notebook does not take the whole card) and, with
    ``mixed_precision="auto"`` or True, the ``mixed_float16`` policy (models keep their
    outputs and losses in float32). On a CPU: float32 and, with ``deterministic="auto"``,
    TensorFlow's op determinism, so one seed gives one result (measured: no slower here).
    Device placement is left to TensorFlow.
    """
    devices = gpus()
    if deterministic is True or (deterministic == "auto" and not devices):
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
