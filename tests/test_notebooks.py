"""Every solution notebook runs end to end, offline, with small parameters (papermill)."""

import base64
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.integration  # sandboxes, notebooks, whole runs: the full suite

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
SMALL = {
    "01_vanilla_gan.ipynb": {"EPOCHS": 2, "LIMIT": 512, "SOURCE": "sample"},
    "02_dcgan.ipynb": {"EPOCHS": 2, "LIMIT": 512, "SOURCE": "sample"},
    "03_epochs_1_10_50_100.ipynb": {"EPOCHS": 2, "SNAPSHOTS": [1, 2], "LIMIT": 512,
                                    "SAMPLES": 500, "SOURCE": "sample"},
    # GRID off: the ring's runs take the same path (the games cell with GRID on is the
    # recorder test's, below; a grid run's, tests/test_mode_collapse.py's).
    "04_mode_collapse.ipynb": {"SEEDS": [0], "EPOCHS": 1, "GRID": False, "STACKED_EPOCHS": 1,
                               "DIGIT_EPOCHS": 1, "LIMIT": 512, "SOURCE": "sample",
                               "SAMPLES": 500},
    "05_dcgan_paper.ipynb": {"EPOCHS": 1, "LIMIT": 1024, "SOURCE": "sample", "PER_CLASS": [10],
                             "DRAWS": 1, "CNN_STEPS": 50},
}


def test_every_solution_notebook_has_small_parameters():
    assert sorted(p.name for p in SOLUTIONS.glob("*.ipynb")) == sorted(SMALL)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_solution_notebook_runs_end_to_end(name, tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    parameters = dict(SMALL[name])
    if "OUT" in nbformat.read(SOLUTIONS / name, as_version=4).cells[1].source:
        parameters["OUT"] = str(tmp_path / "run")
    else:
        parameters["OUT"] = str(tmp_path / "runs")
    output = tmp_path / name
    papermill.execute_notebook(str(SOLUTIONS / name), str(output), parameters=parameters,
                               cwd=str(tmp_path), kernel_name="python3", progress_bar=False,
                               execution_timeout=600)
    executed = nbformat.read(output, as_version=4)
    texts = "".join(
        out.get("text", "") for cell in executed.cells if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    values = "".join(out.get("data", {}).get("text/plain", "") for cell in executed.cells
                     if cell.cell_type == "code" for out in cell.get("outputs", []))
    # the set-up cell ends with gan_lab.setup(), whose one-line repr names the device
    assert "gan_lab " in values and "CPU (" in values and "from 'sample'" in texts
    for cell in executed.cells:  # a check cell shows its verdict once (printed, not echoed)
        if cell.cell_type == "code" and cell.source.startswith("gan_lab.check("):
            shown = [out for out in cell.outputs if "checks pass" in
                     out.get("text", "") + out.get("data", {}).get("text/plain", "")]
            assert len(shown) == 1, (cell.source, cell.outputs)
    images = [out for cell in executed.cells for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})
              or "data:image/gif;base64," in out.get("data", {}).get("text/html", "")]
    # Lab 1 and 2: the GIF and the loss curves (Lab 1 also the loss comparison);
    # Lab 3: the comparison figure and two loss plots; Lab 4: the ring's points, GIF and mode-share maps, grids;
    # Lab 5: samples, the walks and their GIF (the arithmetic needs a trained G).
    assert len(images) >= 2 + name.startswith(("03", "04")) + name.startswith("05"), \
        "a figure was not shown"
    assert "checks pass" in texts or name.startswith("03")
    errors = "".join(out.get("text", "") for cell in executed.cells
                     for out in cell.get("outputs", []) if out.get("name") == "stderr")
    for startup in ("oneDNN", "cuda", "0000 00:00", "This TensorFlow binary"):
        assert startup not in errors, f"TensorFlow's start-up lines reached the notebook: {errors}"
    if name.startswith(("01", "02")):  # the GIF survives the export to HTML, inlined
        from nbconvert import HTMLExporter

        html, _ = HTMLExporter().from_notebook_node(executed)
        gif = (Path(parameters["OUT"]) / "progress.gif").read_bytes()
        assert base64.b64encode(gif).decode("ascii") in html


def test_setup_cell_is_a_few_lines_ending_with_gan_lab_setup():
    for name in sorted(SMALL):
        setup = nbformat.read(SOLUTIONS / name, as_version=4).cells[2].source
        lines = [line for line in setup.splitlines() if line.strip()]
        assert len(lines) <= 8 and lines[-1] == "gan_lab.setup()", (name, setup)
        assert "%pip install" in setup and "GAN_LAB_SOURCE" in setup


def test_measured_tables_stay_out_of_the_student_notebooks():
    """A lab never prints the figures that answer its own questions."""
    for name in sorted(SMALL):
        notebook = nbformat.read(SOLUTIONS / name, as_version=4)
        for cell in notebook.cells:
            assert not cell.source.startswith(("**Measured**", "Measured with")), (name, cell.source[:80])


def test_colab_prepare_does_nothing_elsewhere_and_refuses_drive_there(monkeypatch):
    import sys

    from gan_lab import colab

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert colab.prepare() is None
    with pytest.raises(RuntimeError, match="works on Google Colab only"):
        colab.prepare(use_drive=True)


def test_a_check_verdict_is_printed_once_and_not_echoed(capsys):
    from gan_lab.grading import Verdict

    verdict = Verdict("scale_images: all 5 checks pass")
    assert verdict == "scale_images: all 5 checks pass" and "checks pass" in verdict
    assert verdict._ipython_display_() is None  # IPython shows nothing for the cell's value


@pytest.mark.parametrize("large", [False, True])
def test_lab4_trains_the_large_grid_games_only_when_asked_each_in_a_folder_of_its_own(large):
    # The cell that trains section 3's games, run with a recorder in train_2d's place (the
    # end-to-end run above leaves LARGE off: its three runs cost minutes).
    cells = nbformat.read(SOLUTIONS / "04_mode_collapse.ipynb", as_version=4).cells
    games = next(c.source for c in cells if c.cell_type == "code" and "GAMES" in c.source)
    calls = []

    def train_2d(name, seed, dataset="ring", **settings):
        calls.append((dataset, name, seed, settings["preset"]))
        return len(calls)

    namespace = {"train_2d": train_2d, "plain": {}, "on_mode": {}, "SEEDS": [0, 1],
                 "GRID": True, "LARGE": large}
    exec(games, namespace)  # the solution's own code
    folders = [call[:3] for call in calls]
    assert len(set(folders)) == len(folders) == (18 if large else 12)
    assert [call[3] for call in calls].count("equal_rates_large") == (6 if large else 0)
    assert len(namespace["trained"]) == len(calls)
