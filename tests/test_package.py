"""The package as a student gets it: the wheel and sdist ``python -m build`` makes, installed
into fresh virtual environments, used from empty folders; and the notebooks' set-up cell
installing gan_lab where it is missing (as on a fresh Colab runtime).

Nothing is downloaded: the build runs without isolation, and the fresh environments see
this environment's installed packages (TensorFlow and the rest) through a folder of links
that leaves gan_lab itself out, so ``pip install --no-index`` finds every dependency
installed and the wheel is the only gan_lab there is."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.integration  # sandboxes, notebooks, whole runs: the full suite

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted(p.name for p in (ROOT / "labs").glob("*.ipynb"))


def _run(command, cwd, env=None, timeout=600):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    """The wheel and the sdist, built from a copy of the project's files."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "requirements.txt", "requirements-test.txt"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("gan_lab", "labs"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
         cwd=source)
    return next(out.glob("*.whl")), next(out.glob("*.tar.gz"))


@pytest.fixture(scope="session")
def packages(tmp_path_factory):
    """Links to this environment's installed packages, gan_lab's own files left out."""
    links = tmp_path_factory.mktemp("site")
    for folder in dict.fromkeys((sysconfig.get_paths()["purelib"],
                                 sysconfig.get_paths()["platlib"])):
        for entry in Path(folder).iterdir():
            if entry.name.startswith(("gan_lab", "__editable__", "gan-lab", "keras_gan_lab")) \
                    or entry.suffix == ".pth" or (links / entry.name).exists():
                continue
            (links / entry.name).symlink_to(entry)
    return links


def _fresh_venv(where, packages) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                      "['purelib'])"], cwd=where).strip())
    (site / "installed_packages.pth").write_text(f"{packages}\n")
    return python


def _env(venv_python):
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv_python.parent}{os.pathsep}{env['PATH']}"
    env["PIP_NO_INDEX"] = "1"  # offline: every dependency is already installed
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="session")
def installed(dist, packages, tmp_path_factory):
    """A fresh virtual environment with the wheel installed (dependencies checked, offline)."""
    python = _fresh_venv(tmp_path_factory.mktemp("wheel-env") / "venv", packages)
    _run([str(python), "-m", "pip", "install", "--quiet", str(dist[0])], cwd=python.parent,
         env=_env(python))
    return python


def test_wheel_and_sdist_hold_what_a_student_needs(dist):
    wheel, sdist = dist
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    packages = {p.relative_to(ROOT).as_posix() for p in (ROOT / "gan_lab").rglob("__init__.py")}
    assert packages <= in_wheel, "a package is missing from pyproject.toml's packages"
    assert {"gan_lab/grading/self_check.json", "gan_lab/grading/probes.py",
            "gan_lab/handout.py"} <= in_wheel
    assert {f"gan_lab/labs/{name}" for name in LABS} <= in_wheel and len(LABS) == 5
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"requirements.txt", "gan_lab/grading/self_check.json",
            *(f"labs/{name}" for name in LABS)} <= in_sdist


def test_installed_wheel_trains_hands_out_labs_and_is_not_shadowed(installed, tmp_path):
    env = _env(installed)
    empty = tmp_path / "student"
    (empty / "gan_lab").mkdir(parents=True)  # a clone's folder beside the notebook
    where = _run([str(installed), "-c", "import gan_lab, gan_lab.grading, gan_lab.runs; "
                  "print(gan_lab.__file__)"], cwd=empty, env=env)
    assert str(installed.parents[1]) in where and str(ROOT) not in where

    out = _run(["gan-lab", "labs", "my-labs"], cwd=empty, env=env)
    assert "written" in out
    for name in LABS:
        assert (empty / "my-labs" / name).read_bytes() == (ROOT / "labs" / name).read_bytes()
    notebook = empty / "my-labs" / LABS[0]
    notebook.write_text(notebook.read_text().replace("EPOCHS = None", "EPOCHS = 3"))
    refused = subprocess.run(["gan-lab", "labs", "my-labs"], cwd=empty, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 2 and LABS[0] in refused.stderr
    assert "EPOCHS = 3" in notebook.read_text()  # the student's work is kept
    _run(["gan-lab", "labs", "my-labs", "--overwrite"], cwd=empty, env=env)
    assert "EPOCHS = 3" not in notebook.read_text()

    _run(["gan-lab", "train", "dcgan", "--epochs", "1", "--source", "sample", "--limit", "256"],
         cwd=empty, env=env)
    run = empty / "runs" / "dcgan-mnist"
    for artifact in ("progress.gif", "history.csv", "frames/epoch_0001.png", "tensorboard"):
        assert (run / artifact).exists(), artifact
    assert json.loads((run / "config.json").read_text())["run"]["images"] == 256


def test_setup_cell_installs_gan_lab_where_it_is_missing(dist, packages, tmp_path,
                                                         monkeypatch):
    """The parameters and set-up cells of a lab, in a kernel of a fresh environment without
    gan_lab, with GAN_LAB_SOURCE pointed at the wheel (on Colab: the course's URL)."""
    from nbclient import NotebookClient

    python = _fresh_venv(tmp_path / "venv", packages)
    assert subprocess.run([str(python), "-c", "import gan_lab"], cwd=tmp_path,
                          capture_output=True).returncode != 0
    kernels = tmp_path / "jupyter" / "kernels" / "fresh"
    kernels.mkdir(parents=True)
    env = _env(python)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fresh", "language": "python",
        "env": {key: env[key] for key in ("PATH", "PIP_NO_INDEX")}}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    lab = nbformat.read(ROOT / "labs" / LABS[1], as_version=4)
    parameters, setup = [cell for cell in lab.cells if cell.cell_type == "code"][:2]
    assert "GAN_LAB_SOURCE" in parameters.source and "%pip install" in setup.source
    given = nbformat.v4.new_code_cell(f"GAN_LAB_SOURCE = {str(dist[0])!r}")
    where = nbformat.v4.new_code_cell("print(gan_lab.__file__)")
    lab.cells = [parameters, given, setup, where]
    NotebookClient(lab, kernel_name="fresh", timeout=300, resources={
        "metadata": {"path": str(tmp_path)}}).execute()
    shown = "".join(out.get("text", "") + out.get("data", {}).get("text/plain", "")
                    for out in setup.outputs)
    from gan_lab import __version__

    assert f"gan_lab {__version__}" in shown and "CPU" in shown, shown  # gan_lab.setup()'s line
    printed = "".join(out.get("text", "") for out in where.outputs)
    assert printed.startswith(str(tmp_path / "venv")), printed  # installed from the wheel
