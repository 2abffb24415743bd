"""gan_lab: a Keras/TensorFlow lab kit for teaching GANs (dense GAN and DCGAN on MNIST)."""

import os

from . import colab as colab  # the set-up cell's gan_lab.colab.prepare (no TensorFlow)

__version__ = "0.1.0"


def setup(precision="auto", *, deterministic=False, verbose=False):
    """Set up TensorFlow for gan_lab in this process, before any model: a quiet start
    (TensorFlow's C++ start-up lines hidden unless ``verbose``), GPU memory growth, and the
    precision policy (``precision``: "auto", "float32", "mixed_float16" or "mixed_bfloat16";
    see ``gan_lab.runtime.configure``). Call it first: the notebooks' first cell and the
    command line do. Calling it again with the same choice is a no-op.

    Returns a ``runtime.Setup`` that shows as one line, e.g.
    "gan_lab 0.1.0 · CPU (2 cores) · float32 · XLA on". Raises RuntimeError, saying to
    restart, when models already exist under another policy."""
    quiet_start(verbose)
    from . import runtime

    return runtime.setup(precision, deterministic)


def quiet_start(verbose=False):
    """Keep TensorFlow's C++ log lines from the screen (``verbose``: show them). Takes effect
    only before TensorFlow is first imported in the process, which reads it once."""
    from .quiet import VERBOSE_ENV

    if verbose:
        os.environ[VERBOSE_ENV] = "1"
    elif not os.environ.get(VERBOSE_ENV):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def check(name, obj):
    """Self-check a lab exercise: ``gan_lab.check("discriminator_loss", discriminator_loss)``."""
    from .grading import check as run_check

    return run_check(name, obj)
