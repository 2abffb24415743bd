"""The benchmark's arithmetic and its child runs; the benchmark itself runs in CI as `python -m gan_lab bench --quick`."""

import pytest

from gan_lab import models
from gan_lab.bench import _measure_in_child, forward_flops, step_flops, table


def test_forward_flops_count_every_dense_and_conv_layer():
    generator, discriminator = models.build_pair("gan")
    assert forward_flops(generator) == 2 * (100 * 256 + 256 * 512 + 512 * 1024 + 1024 * 784)
    assert forward_flops(discriminator) == 2 * (784 * 1024 + 1024 * 512 + 512 * 256 + 256)
    generator, discriminator = models.build_pair("dcgan")
    projection = 2 * 100 * 7 * 7 * 256
    up_14 = 2 * 4 * 4 * 256 * 128 * 7 * 7     # transposed conv: per input pixel
    up_28 = 2 * 4 * 4 * 128 * 1 * 14 * 14
    assert forward_flops(generator) == projection + up_14 + up_28
    down_14 = 2 * 4 * 4 * 1 * 64 * 14 * 14    # strided conv: per output pixel
    down_7 = 2 * 4 * 4 * 64 * 128 * 7 * 7
    assert forward_flops(discriminator) == down_14 + down_7 + 2 * 7 * 7 * 128


def test_step_flops_and_table():
    assert step_flops(10, 1, "alternating") == 39 and step_flops(10, 1, "simultaneous") == 38
    row = {"model": "gan", "batch": 128, "loop": "gan_lab", "images_per_s": 100.0,
           "seconds_per_epoch": 600.0, "peak_memory_mb": 1000, "mflop_per_image": 1.0,
           "gflop_per_s": 0.1, "share_of_peak": 0.25, "vs_baseline": 1.0}
    results = {"device": "CPU (2 cores)", "machine": "x86_64", "tensorflow": "2.21.0",
               "matmul_peak_gflop_per_s": 0.4, "timed_steps": 4, "warmup_steps": 2,
               "repeats": 1, "rows": [row]}
    text = table(results)
    assert text.startswith("Device: CPU (2 cores), x86_64; TensorFlow 2.21.0; float32 matmul "
                           "peak 0 GFLOP/s;")
    cells = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in text.splitlines() if line.startswith("| gan ")]
    assert cells == [["gan", "128", "gan_lab", "100", "600", "1,000", "1.0", "0.1", "25%",
                      "1.00x"]]


@pytest.mark.parametrize("variant", ["gan_lab steps_per_execution 8", "gan_lab simultaneous"])
def test_a_variant_measures_in_its_own_process(variant):
    # 9 steps after 8 warm-up ones: with 8 steps per execution the clock sees steps 7 and 15.
    measured = _measure_in_child(variant, "gan", 32, 8, 9)
    assert 10 < measured["images_per_s"] < 1e6 and measured["peak_memory_mb"] > 100
