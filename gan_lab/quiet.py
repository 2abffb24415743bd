"""TensorFlow's native start-up lines (CUDA probes, oneDNN notices) kept from students, and
its retracing warning for the train functions of new runs.

They are written by C++ straight to file descriptor 2 before TensorFlow's own log settings
apply, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them; ``native_stderr_hidden`` points the
descriptor at a temporary file while TensorFlow starts, and shows what it caught only if
starting failed. ``GAN_LAB_VERBOSE=1`` (the command line's ``--verbose``) shows them.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from contextlib import contextmanager

VERBOSE_ENV = "GAN_LAB_VERBOSE"


@contextmanager
def native_stderr_hidden():
    if os.environ.get(VERBOSE_ENV):
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (some embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            sys.stderr.write(caught.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _NewRunsRetracing(logging.Filter):
    """Drops TensorFlow's "N out of the last N calls to <function ...> triggered tf.function
    retracing" for Keras' train functions: each run builds new networks, whose train
    function traces once (``fit``'s), and from the fifth run in one process (a lab's
    notebook) TensorFlow counts those first traces as retracing and says to define the
    function outside a loop, which is not a student's to do."""

    def filter(self, record):
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message
                    and "TensorFlowTrainer._make_function" in message)


_RETRACING = _NewRunsRetracing()


def new_runs_retracing_hidden() -> None:
    """Add the filter to TensorFlow's logger, once (``GAN_LAB_VERBOSE=1`` keeps the lines)."""
    if not os.environ.get(VERBOSE_ENV):
        logger = logging.getLogger("tensorflow")
        if _RETRACING not in logger.filters:
            logger.addFilter(_RETRACING)
