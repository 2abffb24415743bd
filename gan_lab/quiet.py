"""TensorFlow's native start-up lines (CUDA probes, oneDNN notices) kept from students.

They are written by C++ straight to file descriptor 2 before TensorFlow's own log settings
apply, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them; ``native_stderr_hidden`` points the
descriptor at a temporary file while TensorFlow starts, and shows what it caught only if
starting failed. ``GAN_LAB_VERBOSE=1`` (the command line's ``--verbose``) shows them.
"""

from __future__ import annotations

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
