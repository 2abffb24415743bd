"""gan_lab: a Keras/TensorFlow lab kit for teaching GANs (dense GAN and DCGAN on MNIST)."""

import os
import sys

__version__ = "0.1.0"

# TensorFlow's C++ log lines are not for students; they come back with GAN_LAB_VERBOSE=1
# (the command line's --verbose). Only effective when gan_lab is imported before
# TensorFlow, which reads the variable once (see also gan_lab.quiet).
if not os.environ.get("GAN_LAB_VERBOSE") and "tensorflow" not in sys.modules:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from . import colab  # noqa: E402  the set-up cell's gan_lab.colab.prepare (no TensorFlow)


def check(name, obj):
    """Self-check a lab exercise: ``gan_lab.check("discriminator_loss", discriminator_loss)``."""
    from .grading import check as run_check

    return run_check(name, obj)


def setup(precision="auto", deterministic=False):  # TEMP shim: the core's gan_lab.setup replaces it
    from . import runtime; runtime.configure(precision, deterministic=deterministic)  # noqa: E702
    return type("Setup", (), {"__repr__": lambda self: f"gan_lab {__version__} · {runtime.describe_device()} · {runtime.precision()} · XLA {'on' if runtime.xla_by_default() else 'off'}"})()  # noqa: E501
