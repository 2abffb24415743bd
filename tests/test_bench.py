"""The benchmark's arithmetic; the benchmark itself runs in CI as `python -m gan_lab bench --quick`."""

from gan_lab import models
from gan_lab.bench import forward_flops, step_flops, table


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
    assert step_flops(10, 1, "gan_lab") == 49 and step_flops(10, 1, "baseline") == 38
    case = {"images_per_s": 100.0, "seconds_per_epoch": 600.0, "peak_memory_mb": 1000,
            "mflop_per_image": 1.0, "gflop_per_s": 0.1}
    results = {"device": "CPU (2 cores)", "machine": "x86_64", "tensorflow": "2.21.0",
               "timed_steps": 4, "warmup_steps": 2, "repeats": 1,
               "cases": [{"model": "gan", "batch": 128, "baseline": case, "gan_lab": case,
                          "ratio": 1.0}]}
    text = table(results)
    assert text.startswith("Device: CPU (2 cores), x86_64; TensorFlow 2.21.0;")
    assert "| gan | 128 | gan_lab | 100 | 600 | 1,000 | 1.0 | 0.1 | 1.00x |" in text
