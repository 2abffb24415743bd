"""bench --quality: the target, the turns, the table; the full run is the benchmark's."""

import pytest

from gan_lab.bench import time_to_digits
from gan_lab.plotting import plot_time_to_digits


def test_passes_reads_each_part_of_the_target():
    measures = {"modes": 9, "confident": 0.6, "frechet_distance": 40.0}
    assert all(time_to_digits.passes(measures).values())
    assert time_to_digits.passes({**measures, "modes": 8})["modes"] is False
    assert time_to_digits.passes({**measures, "confident": 0.59})["confident"] is False
    assert time_to_digits.passes({**measures, "frechet_distance": 40.1})["frechet_distance"] \
        is False


@pytest.mark.integration
def test_a_short_run_takes_turns_and_tables_where_each_recipe_stands(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LAB_XLA", "0")  # XLA's compile time is not what is tested here
    results = time_to_digits.run(budget=1, every=1, samples=100, limit=256, log=lambda _: None)
    assert [row["recipe"] for row in results["rows"]] == ["gan_lab", "tutorial"]
    assert all(row["epoch"] == 1 and row["cpu_seconds"] > 0 for row in results["rows"])
    text = time_to_digits.table(results)
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
             if line.startswith("| gan_lab") or line.startswith("| tutorial")]
    assert [row[0] for row in cells] == ["gan_lab", "tutorial"]
    assert all(row[4] == "not in 1" for row in cells)  # one epoch of 256 digits: no digits
    assert "did not reach the target" in text
    plot_time_to_digits(results).savefig(tmp_path / "quality.png")
    assert (tmp_path / "quality.png").stat().st_size > 10_000


def test_the_verdict_is_the_ratio_of_cpu_seconds_to_the_whole_target():
    rows = [{"recipe": name, "epoch": 10, "cpu_seconds": 100.0, "modes": 10, "confident": 0.7,
             "frechet_distance": 30.0, "passes": True} for name in ("gan_lab", "tutorial")]
    results = {"budget": 500, "rows": rows, "reached": {
        "gan_lab": {"modes": 50.0, "confident": 80.0, "frechet_distance": 100.0, "all": 100.0},
        "tutorial": {"modes": 100.0, "confident": 300.0, "frechet_distance": 400.0, "all": 400.0}}}
    assert time_to_digits.table(results).endswith("4.0x sooner than the tutorial's recipe")
    results["reached"]["tutorial"]["all"] = None
    assert "had not after 500 (> 5.0x)" in time_to_digits.table(results)


def test_a_preset_names_its_row_and_only_dcgan_presets_are_taken():
    rows = [{"recipe": name, "epoch": 2, "cpu_seconds": 50.0, "modes": 3, "confident": 0.1,
             "frechet_distance": 200.0, "passes": False} for name in ("gan_lab", "tutorial")]
    results = {"budget": 50, "preset": "remedy", "rows": rows,
               "reached": {name: dict.fromkeys(("modes", "confident", "frechet_distance",
                                                "all")) for name in ("gan_lab", "tutorial")}}
    assert "| gan_lab, preset remedy " in time_to_digits.table(results)
    assert time_to_digits.gan_lab_config(preset="remedy").learning_rate == 1e-3
    with pytest.raises(ValueError, match="preset collapse trains the gan model"):
        time_to_digits.gan_lab_config(preset="collapse")
