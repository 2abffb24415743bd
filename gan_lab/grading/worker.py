"""The child process that runs exercise code: the student's, or the solutions'.

It is forked from a server that imported TensorFlow once (so a child starts in a tenth of
a second), runs each exercise cell and its probe, and appends one JSON line a step to a
progress file the grader watches: ``{"start": name}``, then ``{"name": name,
"observations": ...}`` or ``{"name": name, "error": reason}``. Whatever the code does to
this process (patching modules, exiting, looping forever) stays in this process.
"""

from __future__ import annotations

import json
import os
import traceback

import keras  # noqa: F401  imported here so every forked child has it already
import numpy as np  # noqa: F401
import tensorflow as tf

from gan_lab import gan, models  # noqa: F401
from gan_lab.grading.probes import run_probe

# What every exercise cell may use without importing it (the labs' first cell imports these).
PRELUDE = "import numpy as np\nimport tensorflow as tf\nimport keras\nfrom keras import layers, ops\n"


class MissingDefinition(LookupError):
    pass


def _reason(error: BaseException, filename: str) -> str:
    """One line: the error, and the line of the exercise cell it came from."""
    if isinstance(error, MissingDefinition):
        return str(error)
    if isinstance(error, NotImplementedError):
        return "not implemented (the cell still raises NotImplementedError)"
    if isinstance(error, SystemExit):
        return "the code called sys.exit()/exit()"
    if isinstance(error, SyntaxError):
        return f"syntax error on line {error.lineno}: {error.msg}"
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if frame.filename == filename]
    where = f" (line {lines[-1]} of the cell)" if lines else ""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message[:200]}{where}"


def run_job(cells, seed, progress_path):
    """Run ``cells`` [(name, source), ...] in order and report each to ``progress_path``."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the code's prints and TensorFlow's logs are not the grader's output
    os.dup2(devnull, 2)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    namespace = {"__name__": "__main__"}
    exec(PRELUDE, namespace)
    with open(progress_path, "a") as progress:
        def report(entry):
            progress.write(json.dumps(entry) + "\n")
            progress.flush()

        for name, source in cells:
            report({"start": name})
            filename = f"<exercise {name}>"
            try:
                exec(compile(source, filename, "exec"), namespace)
                if name not in namespace:
                    raise MissingDefinition(f"the cell does not define `{name}`")
                report({"name": name, "observations": run_probe(name, namespace[name], seed)})
            except BaseException as error:  # noqa: B036  student code may raise anything
                report({"name": name, "error": _reason(error, filename)})
    os._exit(0)
