"""One sandbox per student: the probe runner started fresh in bubblewrap, with limits the
student cannot reach.

What the sandbox sees (``bwrap`` namespaces, nothing else mounted): the system's /usr and
libraries, the Python environment (read-only; the gan_lab package, the project tree and the
solutions are not in it, and are covered by an empty tmpfs where they would be), the
runner's two files (``runner.py``, ``probes.py``: no answers) and a private /tmp of
``TMP_BYTES``; everything else, / and /dev included, is read-only. No network, its own PID
namespace with the runner as init (the grader is not in its /proc), no capabilities, no new
user namespaces, a new session, killed with the grader.

What the grader keeps outside: the clock (a deadline per exercise and per student,
measured here, not there), the limits (address space, file size and processes, set on the
launcher before bwrap starts and inherited by everything inside; and, where they can be made,
cgroups of the student's own for its processes, its memory and a CPU quota, all its
processes together, so one student cannot take a neighbour's memory or deadlines), the size
of what comes back (frames of at most ``FRAME_LIMIT`` bytes), and the end: the bwrap process
is killed, which takes its PID namespace and every process in it along.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER_FILES = ("runner.py", "probes.py")
FRAME_LIMIT = 2 << 20  # bytes of one reply from the sandbox
TMP_BYTES = 64 << 20  # the sandbox's private /tmp
SHM_BYTES = 1 << 20  # and /dev/shm
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; "
                "Fedora: sudo dnf install bubblewrap)")


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create namespaces here; the message says how to fix it."""


@dataclass(frozen=True)
class Limits:
    """What one student may use. Times in seconds, sizes in bytes."""

    exercise_seconds: float = 20.0
    student_seconds: float = 300.0
    startup_seconds: float = 120.0  # TensorFlow's import in a fresh process, on a busy machine
    memory_bytes: int = 4 << 30  # every process's address space, and all together (cgroup)
    cpus: float = 1.0  # cores' worth of CPU time the student's processes share (cgroup)
    processes: int = 256  # processes and threads (a pids cgroup; else beyond the user's own)
    file_bytes: int = 64 << 20


def bwrap_path():
    return shutil.which("bwrap")


@lru_cache(maxsize=1)
def check_available():
    """Raise SandboxUnavailable unless a bwrap sandbox can run here."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(
            f"the grading sandbox needs Linux with bubblewrap; this is {sys.platform}. Grade "
            "on a Linux machine (or a Linux container) with bubblewrap installed, or pass "
            "--no-sandbox to run students' code unconfined (see docs/grading-security.md)")
    if bwrap_path() is None:
        raise SandboxUnavailable(
            f"the grading sandbox needs bubblewrap (bwrap), not found: {INSTALL_HINT}; or pass "
            "--no-sandbox to run students' code unconfined (see docs/grading-security.md)")
    with tempfile.TemporaryDirectory() as workdir:  # every option a sandbox is made with
        probe = subprocess.run([bwrap_path(), *_namespace_args(), "--ro-bind", "/", "/",
                                *_scratch_args(workdir), "--remount-ro", "/", "true"],
                               capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bwrap cannot create a sandbox here ({probe.stderr.strip()[:200]}); user "
            "namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1) or bwrap "
            "needs to be setuid; or pass --no-sandbox to run students' code unconfined")


@lru_cache(maxsize=1)
def _bwrap_options():
    """The options this bwrap knows: --disable-userns and --size came with 0.8."""
    if bwrap_path() is None:
        return frozenset()
    try:
        shown = subprocess.run([bwrap_path(), "--help"], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(re.findall(r"--[a-z][a-z0-9-]*", shown.stdout + shown.stderr))


def _scratch_args(workdir):
    """/proc, /dev, and the only writable places: /tmp and /dev/shm, tmpfs of a fixed size
    (a bwrap before 0.8 cannot size a tmpfs: /tmp is then the session's folder on disk and
    /dev/shm stays read-only)."""
    args = ["--proc", "/proc", "--dev", "/dev"]
    if "--size" in _bwrap_options():
        return args + ["--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
                       "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    return args + ["--bind", str(workdir), "/tmp"]


def _namespace_args():
    # --as-pid-1: the runner is the namespace's init, so no other process holds the grader's
    # pipe (bwrap's own init would, and is open to /proc/1/fd/1), and signals from inside
    # (SIGKILL, SIGSTOP) cannot stop it.
    args = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--as-pid-1"]
    if "--disable-userns" in _bwrap_options():
        args.append("--disable-userns")
    if os.geteuid() == 0:
        args += ["--cap-drop", "ALL"]
    return args


def _hidden_paths(secrets):
    """Paths that must not be visible: the gan_lab package and the given ones (project
    tree, solutions, class folders), resolved."""
    paths = {HERE.parent.resolve()}
    paths.update(Path(p).resolve() for p in secrets)
    return paths


def _inside(path, folder):
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")


def _python_paths():
    """The folders the interpreter and its packages live in: the prefixes, and the
    site-packages on sys.path (not the current folder or a project on it), as given and
    resolved."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    paths.update(entry for entry in sys.path
                 if {"site-packages", "dist-packages"} & set(Path(entry).parts)
                 and os.path.isdir(entry))
    return {Path(os.path.abspath(p)) for p in paths} | {Path(p).resolve() for p in paths}


@lru_cache(maxsize=4)
def _mounts(secrets):
    """(read-only mounts, tmpfs covers): the system and the Python environment, minus
    anything that holds answers or other students (covered where it lies inside them)."""
    mounts = []
    for path in SYSTEM:
        if os.path.islink(path):
            mounts.append(("--symlink", os.readlink(path), path))
        elif os.path.isdir(path):
            mounts.append(("--ro-bind", path, path))
    python = sorted(p for p in _python_paths()
                    if not any(_inside(p, Path(s)) for s in SYSTEM))
    for path in python:  # shortest first: a folder inside one already mounted is skipped
        if not any(_inside(path, Path(m[2])) for m in mounts if m[0] == "--ro-bind"):
            mounts.append(("--ro-bind", str(path), str(path)))
    mounted = [Path(m[2]) for m in mounts if m[0] == "--ro-bind"]
    covers = [str(path) for path in sorted(_hidden_paths(secrets), key=str)
              if any(_inside(path, m) for m in mounted)]
    return mounts, covers


def bwrap_command(limits: Limits, secrets=(), workdir="/nonexistent"):
    """The bwrap command line that starts the probe runner in a fresh sandbox."""
    mounts, covers = _mounts(tuple(sorted(map(str, secrets))))
    # /tmp first: a Python environment made under /tmp (CI's mktemp -d) is mounted into it
    command = [bwrap_path(), *_namespace_args(), *_scratch_args(workdir)]
    for kind, source, target in mounts:
        command += [kind, source, target]
    for path in covers:
        command += ["--tmpfs", path]
    command += ["--dir", "/runner"]
    for name in RUNNER_FILES:
        command += ["--ro-bind", str(HERE / name), f"/runner/{name}"]
    # nothing else writable: the root and /dev are memory (tmpfs) that no limit would count
    command += ["--remount-ro", "/dev", "--remount-ro", "/",
                "--chdir", "/tmp", "--clearenv", *_environment_args(),
                sys.executable, "-I", "-B", "/runner/runner.py"]
    return command


SANDBOX_ENV = {"HOME": "/tmp", "PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3",
               "CUDA_VISIBLE_DEVICES": "", "MALLOC_ARENA_MAX": "2", "OMP_NUM_THREADS": "1",
               "KERAS_HOME": "/tmp/.keras", "MPLCONFIGDIR": "/tmp", "KERAS_BACKEND": "tensorflow",
               # float32 on every machine: a class grades alike on CPUs with and without bfloat16
               "GAN_LAB_PRECISION": "float32"}


def _environment_args():
    args = []
    for key, value in SANDBOX_ENV.items():
        args += ["--setenv", key, value]
    return args


def _user_tasks():
    """Processes and threads of this user now (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


CONTROLLERS = ("pids", "memory", "cpu")  # the student's processes, memory and CPU share
CPU_PERIOD_US = 100_000
OPTIONAL = ("memory.memsw.limit_in_bytes", "memory.swap.max")


def _cgroup_lines():
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    return [line.split(":", 2) for line in lines if line.count(":") >= 2]


def _cgroup_parent(controller):
    """(this process's cgroup folder for ``controller``, 'v1' or 'v2') if we may make
    children there (a cgroup v1 hierarchy of that controller, or v2 with it enabled for
    children), else (None, '')."""
    for _, controllers, path in _cgroup_lines():
        names = controllers.split(",")
        if controller in names:
            bases = [Path("/sys/fs/cgroup") / name / path.lstrip("/")
                     for name in (controller, controllers)]
            version = "v1"
        elif controllers == "":
            base = Path("/sys/fs/cgroup") / path.lstrip("/")
            try:
                if controller not in (base / "cgroup.subtree_control").read_text().split():
                    continue
            except OSError:
                continue
            bases, version = [base], "v2"
        else:
            continue
        for base in bases:
            if base.is_dir() and os.access(base, os.W_OK):
                return base, version
    return None, ""


def _pids_cgroup_parent():
    return _cgroup_parent("pids")[0]


_CGROUP_COUNT = iter(range(1, 1 << 62))
CGROUP_PREFIX = "gan_lab_grading_"


def _settings(controller, version, limits):
    """[(file, value)] that cap ``controller`` at ``limits``, written in this order."""
    if controller == "pids":
        return [("pids.max", str(limits.processes))]
    quota = str(max(1000, int(limits.cpus * CPU_PERIOD_US)))
    if version == "v2":
        return {"memory": [("memory.max", str(limits.memory_bytes)),
                           ("memory.swap.max", "0")],
                "cpu": [("cpu.max", f"{quota} {CPU_PERIOD_US}")]}[controller]
    return {"memory": [("memory.limit_in_bytes", str(limits.memory_bytes)),
                       ("memory.memsw.limit_in_bytes", str(limits.memory_bytes))],
            "cpu": [("cpu.cfs_period_us", str(CPU_PERIOD_US)),
                    ("cpu.cfs_quota_us", quota)]}[controller]


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except OSError:
        return True


def _stale(name):
    """A cgroup or work folder of a grader that no longer runs (killed with -9)."""
    match = re.match(CGROUP_PREFIX + r"(\d+)_", name)
    return bool(match) and not _alive(int(match.group(1)))


def remove_stale():
    """Remove what a grader killed with -9 left: its empty cgroups and its work folders."""
    for controller in CONTROLLERS:
        parent, _ = _cgroup_parent(controller)
        for folder in parent.glob(CGROUP_PREFIX + "*") if parent else ():
            if _stale(folder.name):
                try:
                    folder.rmdir()
                except OSError:
                    pass
    for folder in Path(tempfile.gettempdir()).glob(CGROUP_PREFIX + "*"):
        if _stale(folder.name) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)


class Cgroups:
    """The student's own cgroups, one per controller where one can be made (they also hold
    for root, whom RLIMIT_NPROC exempts): processes (pids.max), memory of all its
    processes together (memory.max / memory.limit_in_bytes), and a CPU quota of
    ``limits.cpus`` cores, so one student cannot eat a neighbour's deadlines. Where a
    cgroup cannot be made, the per-process rlimits alone hold."""

    def __init__(self, limits):
        self.folders = {}  # controller -> folder (v2: one folder serves every controller)
        for controller in CONTROLLERS:
            parent, version = _cgroup_parent(controller)
            if parent is None:
                continue
            shared = [f for f in self.folders.values() if f.parent == parent]
            folder = shared[0] if shared else (
                parent / f"{CGROUP_PREFIX}{os.getpid()}_{next(_CGROUP_COUNT)}")
            try:
                folder.mkdir(exist_ok=bool(shared))
                for name, value in _settings(controller, version, limits):
                    if name in OPTIONAL and not (folder / name).exists():
                        continue  # no swap accounting here: memory alone
                    (folder / name).write_text(value)
                self.folders[controller] = folder
            except OSError:
                if not shared:
                    self._rmdir(folder, tries=1)

    @property
    def kinds(self):
        return tuple(c for c in CONTROLLERS if c in self.folders)

    @property
    def procs(self):
        """The cgroup.procs files the launcher joins."""
        return sorted({str(f / "cgroup.procs") for f in self.folders.values()})

    @staticmethod
    def _rmdir(folder, tries=50):
        for _ in range(tries):  # the killed processes leave the group within moments
            try:
                folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)

    def remove(self):
        for folder in set(self.folders.values()):
            self._rmdir(folder)


ProcessCap = Cgroups


def cgroup_kinds():
    """The controllers a sandbox gets a cgroup of here, e.g. ('pids', 'memory', 'cpu')."""
    return tuple(c for c in CONTROLLERS if _cgroup_parent(c)[0] is not None)


def process_cap_kind():
    """How the process count is capped here: 'cgroup', 'rlimit' or 'none' (root without a
    pids cgroup: RLIMIT_NPROC does not apply to root)."""
    if _pids_cgroup_parent() is not None:
        return "cgroup"
    return "none" if os.geteuid() == 0 else "rlimit"


# Joins the student's cgroups, sets the limits, then becomes the given command: limits the
# student's code inherits and, without capabilities, cannot raise.
_LAUNCH = ("import json, os, resource, sys\n"
           "for procs in json.loads(sys.argv[2]):\n"
           "    try:\n"
           "        with open(procs, 'w') as stream:\n"
           "            stream.write(str(os.getpid()))\n"
           "    except OSError:\n"  # a cgroup that will not take us: the rlimits alone
           "        pass\n"
           "for name, value in json.loads(sys.argv[1]).items():\n"
           "    resource.setrlimit(getattr(resource, name), (value, value))\n"
           "os.execv(sys.argv[3], sys.argv[3:])\n")


def launch_command(command, limits: Limits, procs=()):
    rlimits = {"RLIMIT_AS": limits.memory_bytes, "RLIMIT_FSIZE": limits.file_bytes,
               "RLIMIT_CORE": 0,
               "RLIMIT_NPROC": _user_tasks() + limits.processes}
    return [sys.executable, "-I", "-S", "-c", _LAUNCH, json.dumps(rlimits),
            json.dumps(list(procs)), *command]


def plain_command():
    """--no-sandbox: the runner as an ordinary child process (limits still apply)."""
    return [sys.executable, "-I", "-B", str(HERE / "runner.py")]


class StudentProcessError(RuntimeError):
    """The sandbox ended, stalled or sent something unreadable: that student's problem."""


class UnreadableReply(StudentProcessError):
    """A reply arrived whole but its contents are not a reply for the exercise asked about
    (the code wrote its own): that exercise's zero; the sandbox goes on."""


class Session:
    """One student's sandbox: start, run exercises one request at a time, kill."""

    def __init__(self, limits: Limits, sandboxed=True, secrets=(), deadline=None):
        self.limits, self.sandboxed = limits, sandboxed
        self.deadline = deadline or time.monotonic() + limits.student_seconds
        self.workdir = tempfile.mkdtemp(prefix=f"{CGROUP_PREFIX}{os.getpid()}_")
        self.cap = Cgroups(limits)
        command = (bwrap_command(limits, secrets, self.workdir) if sandboxed
                   else plain_command())
        env = dict(SANDBOX_ENV, HOME=self.workdir, KERAS_HOME=self.workdir,
                   MPLCONFIGDIR=self.workdir, PATH=os.environ.get("PATH", "/usr/bin"))
        self.process = subprocess.Popen(
            launch_command(command, limits, self.cap.procs), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=self.workdir, env=env,
            start_new_session=True)
        try:
            self.ready = self._read(min(self.deadline,
                                        time.monotonic() + limits.startup_seconds), "starting")
        except StudentProcessError:
            self.close()
            raise
        if not self.ready.get("ready"):
            self.close()
            raise StudentProcessError("the grading process did not start: "
                                      f"{self.ready.get('error', 'no reason given')}")

    def run(self, name, source, inputs, self_check=None):
        """The sandbox's reply for one exercise, or StudentProcessError; with
        ``self_check`` (the self-check's inputs) it holds the probe's observations on them
        too, as ``"self_check"``."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise StudentProcessError("the student's time limit was reached")
        timeout = min(self.limits.exercise_seconds, remaining)
        body = pickle.dumps({"name": name, "source": source, "inputs": inputs,
                             "self_check": self_check, "timeout": timeout})
        try:
            self.process.stdin.write(struct.pack(">I", len(body)) + body)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise StudentProcessError("the grading process had ended") from None
        # The runner stops the exercise at ``timeout``; this deadline is the one that
        # holds if the runner itself was stopped, killed or made slow.
        reply = self._read(min(time.monotonic() + timeout + 5, self.deadline), name)
        if reply.get("name") != name or not ("observations" in reply or "error" in reply):
            raise UnreadableReply(f"the reply for {name} was not for {name}: the code wrote "
                                  "its own")
        return reply

    def _read(self, deadline, what):
        header = self._read_exactly(4, deadline, what)
        size = struct.unpack(">I", header)[0]
        if size > FRAME_LIMIT:
            raise StudentProcessError(f"the reply for {what} was larger than "
                                      f"{FRAME_LIMIT // 1024} KiB")
        body = self._read_exactly(size, deadline, what)
        try:
            reply = json.loads(body)
        except (ValueError, RecursionError, MemoryError):
            raise UnreadableReply(f"the reply for {what} was not readable") from None
        if not isinstance(reply, dict):
            raise UnreadableReply(f"the reply for {what} was not readable")
        return reply

    def _read_exactly(self, count, deadline, what):
        fd, data = self.process.stdout.fileno(), b""
        while len(data) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                if deadline >= self.deadline:
                    raise StudentProcessError("the student's time limit "
                                              f"({self.limits.student_seconds:.0f} s) was "
                                              f"reached while {what}")
                raise StudentProcessError(f"no reply for {what} in time; the grading "
                                          "process was stopped")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, count - len(data))
            if not chunk:
                code = self.process.poll()
                raise StudentProcessError(f"the grading process ended while {what}"
                                          + (f" (exit code {code})" if code is not None else ""))
            data += chunk
        return data

    def close(self):
        """Kill the sandbox: its init (the runner) first, whose end takes every process in
        the PID namespace along before bwrap, its parent, can exit; then bwrap. Without a
        sandbox the process is the runner itself: its children, then its session, at once."""
        if self.process.poll() is None:
            pid = self.process.pid
            self._kill_children(pid)
            if self.sandboxed:  # bwrap exits once its init has ended
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.process.kill()
        except OSError:
            pass
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.cap.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def _kill_children(pid):
        """Kill process ``pid``'s children: bwrap's is the runner (the namespace's init);
        an unsandboxed runner's are the student's, even those in sessions of their own."""
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            try:
                os.kill(int(child), signal.SIGKILL)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
