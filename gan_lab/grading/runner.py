"""The probe runner: the one process the grader starts in a student's sandbox.

Run as a plain script (``python -I runner.py``) next to ``probes.py``; it imports nothing from
gan_lab and holds no answers. It imports TensorFlow once, then for each request from the
grader forks a fresh child that runs one exercise cell and its probe, so nothing one cell
defines or is handed reaches another. The child's stdout and stderr go nowhere; its
observations come back through a pipe of its own, at most ``REPLY_LIMIT`` bytes, and the
runner passes them on as they are: judging them is the grader's work.

Protocol on stdin/stdout: frames of a 4-byte big-endian length and a payload. Requests are
pickles from the grader (trusted); replies are JSON (``{"ready": ...}`` once, then
``{"name", "observations"}`` or ``{"name", "error"}`` per request).
"""

import ctypes
import json
import os
import pickle
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPLY_LIMIT = 1 << 20  # bytes of observations one exercise may return

# What every exercise cell may use without importing it (the labs' first cell imports these).
PRELUDE = ("import numpy as np\nimport tensorflow as tf\nimport keras\n"
           "from keras import layers, ops\n")


# Characters of an error's first line kept in its reason (the grader keeps 1000 at most).
MESSAGE_CHARS = 600


class MissingDefinition(LookupError):
    pass


def _reason(error, filename):
    """One line: the error, and the line of the exercise cell it came from."""
    if isinstance(error, MissingDefinition):
        return str(error)
    if isinstance(error, NotImplementedError):
        return "not implemented (the cell still raises NotImplementedError)"
    if isinstance(error, SystemExit):
        return "the code called sys.exit()/exit()"
    if isinstance(error, SyntaxError):
        where = f" on line {error.lineno}" if error.lineno else ""
        return f"syntax error{where}: {error.msg}"
    if isinstance(error, MemoryError):
        return "MemoryError: the code asked for more memory than the grader allows"
    try:
        lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
                 if frame.filename == filename]
        text = str(error).strip()
    except BaseException:  # noqa: B036  an exception whose str() raises
        lines, text = [], ""
    where = f" (line {lines[-1]} of the cell)" if lines else ""
    message = text.splitlines()[0] if text else ""
    if len(message) > MESSAGE_CHARS:  # cut, and saying so
        message = (f"{message[:MESSAGE_CHARS]} ... ({len(message) - MESSAGE_CHARS} more "
                   "characters of the error's text)")
    return f"{type(error).__name__}: {message}{where}"


def _one_thread():
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def run_exercise(name, source, inputs, save_to=None, self_check=None):
    """In the forked child: the cell, then its probe. Returns the reply as a dict. With
    ``save_to`` (a path), a network of Keras' own layers is built and saved there instead
    (``{"saved": True}``), to be measured by ``measure_saved`` in a process the cell never
    ran in; any other network is measured here. With ``self_check`` (the self-check's
    inputs), the probe also runs on them, as the check cell in the student's notebook
    would (in the cell's process, like the notebook): ``"self_check"`` holds those
    observations or ``{"error": ...}``, for the report only (never for points)."""
    import probes

    _one_thread()
    namespace = {"__name__": "__main__"}
    exec(PRELUDE, namespace)
    filename = f"<exercise {name}>"
    try:
        exec(compile(source, filename, "exec"), namespace)
        if name not in namespace:
            raise MissingDefinition(f"the cell does not define `{name}`")
        if save_to and _saved(probes, namespace[name], inputs, save_to):
            reply = {"name": name, "saved": True}
        else:  # measured here: the probe raises what the code raises, as it always did
            reply = {"name": name, "observations": probes.run_probe(namespace[name], inputs)}
    except BaseException as error:  # noqa: B036  student code may raise anything
        return {"name": name, "error": _reason(error, filename)}
    if self_check is not None:
        try:
            reply["self_check"] = probes.run_probe(namespace[name], self_check)
        except BaseException as error:  # noqa: B036
            reply["self_check"] = {"error": _reason(error, filename)}
    return reply


def _saved(probes, builder, inputs, path):
    """True if the network ``builder`` makes was saved to ``path`` and loads back."""
    try:
        return probes.save_built(builder, inputs, path)
    except Exception:  # noqa: BLE001  not a network, a lambda that will not save...
        return False


def measure_saved(name, path, inputs):
    """In a fresh child (forked from the runner, which never ran a student's cell): the
    network saved at ``path`` (config and weights, no code: loaded in Keras' safe mode)
    measured by the rule probes; ``"fresh": True`` says so to the grader."""
    import keras
    import probes

    _one_thread()
    try:
        keras.utils.set_random_seed(inputs["seed"])  # the dropout layers' seeds, as built
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
        return {"name": name, "observations": probes.run_probe(lambda: model, inputs),
                "fresh": True}
    except BaseException as error:  # noqa: B036  a file the cell's code may have written
        return {"name": name, "error": "the network saved by the cell could not be loaded "
                                       f"or measured ({_reason(error, '')})"}


def _child(write_end, name, work):
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        reply = json.dumps(work(), allow_nan=True).encode()
    except BaseException as error:  # noqa: B036
        reply = json.dumps({"name": name, "error": "the observations could not be written "
                            f"({type(error).__name__})"}).encode()
    if len(reply) > REPLY_LIMIT:
        reply = json.dumps({"name": name, "error": "returned more than "
                            f"{REPLY_LIMIT // 1024} KiB of observations"}).encode()
    try:
        view = memoryview(struct.pack(">I", len(reply)) + reply)
        while view:
            view = view[os.write(write_end, view):]
    finally:
        os._exit(0)


def run_request(request, protocol_fds):
    """One exercise: in a child, the cell and its probe; for a network (the builders), the
    cell builds and saves it in one child and a fresh child measures it, so nothing the
    cell's code did to the probe module counts. Returns the reply (bytes or a dict)."""
    name, source, inputs = request["name"], request["source"], request["inputs"]
    self_check = request.get("self_check")
    deadline = time.monotonic() + request["timeout"]
    if inputs.get("probe") not in MODEL_PROBES:
        return run_in_child(name, lambda: run_exercise(name, source, inputs,
                                                       self_check=self_check),
                            request["timeout"], protocol_fds)
    folder = tempfile.mkdtemp(prefix="network_", dir=os.getcwd())
    try:
        path = os.path.join(folder, "network.keras")
        built = run_in_child(name, lambda: run_exercise(name, source, inputs, save_to=path,
                                                        self_check=self_check),
                             request["timeout"], protocol_fds)
        try:
            reply = json.loads(built) if isinstance(built, bytes) else built
        except (ValueError, RecursionError):
            return built  # unreadable: the grader says so
        if isinstance(reply, dict) and "fresh" in reply:
            return {"name": name, "error": "the reply for the cell claimed a fresh "
                                           "measurement: the code wrote its own"}
        if not (isinstance(reply, dict) and reply.get("saved") is True):
            return built  # measured in the cell's own process (or an error)
        measured = run_in_child(name, lambda: measure_saved(name, path, inputs),
                                max(0.1, deadline - time.monotonic()), protocol_fds)
        if "self_check" not in reply:
            return measured
        try:  # the fresh child's reply (it ran no student code), with the cell's self-check
            measured = json.loads(measured) if isinstance(measured, bytes) else measured
            measured["self_check"] = reply["self_check"]
        except (ValueError, RecursionError, TypeError):
            pass
        return measured
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# The exercises whose object is a network builder (probes.PROBES' names).
MODEL_PROBES = ("generator", "discriminator")


def run_in_child(name, work, timeout, protocol_fds):
    """Fork, run ``work`` (returns the reply dict) in the child, read its reply (capped)
    within ``timeout``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            for fd in protocol_fds:
                os.close(fd)
            os.setpgid(0, 0)
            _child(write_end, name, work)
        finally:
            os._exit(70)
    os.close(write_end)
    try:
        reply = _read_reply(read_end, time.monotonic() + timeout)
    finally:
        os.close(read_end)
        for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                kill()
            except OSError:
                pass
        _, status = os.waitpid(pid, 0)
    if reply == "timeout":
        return {"name": name, "error": f"still running after {timeout:.0f} s "
                                       "(an endless loop?); stopped"}
    if reply == "too large":
        return {"name": name, "error": f"returned more than {REPLY_LIMIT // 1024} KiB"}
    if reply is None:
        code = os.waitstatus_to_exitcode(status)
        return {"name": name, "error": "the code ended the grading process "
                                       f"(exit code {code}: os._exit, a signal or a crash)"}
    return reply  # passed on unread: the grader parses it


def _read_reply(fd, deadline):
    """The child's reply: a 4-byte length and that many bytes, read by ``deadline``; None if
    the pipe closed first, "timeout" or "too large"."""
    data, wanted = b"", 4
    while len(data) < wanted:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(fd, min(wanted - len(data), 1 << 16))
        if not chunk:
            return None
        data += chunk
        if wanted == 4 and len(data) == 4:
            wanted = 4 + struct.unpack(">I", data)[0]
            if wanted > REPLY_LIMIT + 4:
                return "too large"
    return data[4:]


def _reap():
    """As the namespace's init, collect the processes the code left and that ended."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _read_exactly(fd, count):
    data = b""
    while len(data) < count:
        chunk = os.read(fd, count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(fd, reply):
    payload = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
    frame = struct.pack(">I", len(payload)) + payload
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


class _SkipOptional:
    """While TensorFlow and Keras load: Keras imports scikit-learn, matplotlib, pandas and
    scipy only if they are there (its wrappers, plots and data adapters), two and a half of
    its seven seconds of start-up here; nothing graded needs them. A cell may still import
    them itself."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("sklearn", "matplotlib", "pandas", "scipy"):
            raise ImportError(f"{name} is not loaded while the grader starts")
        return None


def main():
    # The grader's channel: fds 0 and 1, kept apart from anything printed (TensorFlow's
    # start-up chatter, the cells' output, which go to /dev/null).
    requests, replies = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:  # not dumpable: the children cannot open /proc/<runner>/fd/* or ptrace it
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    started = time.monotonic()
    skip = _SkipOptional()
    sys.meta_path.insert(0, skip)
    try:
        exec(PRELUDE, {})  # TensorFlow imported once, before any fork; no op run yet
        import probes  # noqa: F401
    except BaseException as error:  # noqa: B036
        _send(replies, {"ready": False, "error": f"{type(error).__name__}: {error}"[:300]})
        return
    finally:
        sys.meta_path.remove(skip)
    _send(replies, {"ready": True, "import_seconds": round(time.monotonic() - started, 2)})
    while True:
        header = _read_exactly(requests, 4)
        if header is None:
            return
        body = _read_exactly(requests, struct.unpack(">I", header)[0])
        if body is None:
            return
        request = pickle.loads(body)
        try:
            reply = run_request(request, (requests, replies))
        except Exception as error:  # noqa: BLE001  e.g. no process left to fork
            reason = f"the grading process could not run it ({type(error).__name__}: {error})"
            reply = {"name": request["name"], "error": reason[:300]}
        _send(replies, reply)
        _reap()


if __name__ == "__main__":
    main()
