"""The mode-collapse presets on 5 seeds each: about 24 minutes, so marked slow."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.mark.slow
def test_collapse_preset_collapses_and_remedy_keeps_the_modes(tmp_path, monkeypatch):
    import mode_collapse

    monkeypatch.chdir(tmp_path)
    assert mode_collapse.main(["--seeds", "0", "1", "2", "3", "4"]) == 0
