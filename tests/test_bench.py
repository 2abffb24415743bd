"""The benchmark's arithmetic and its child runs; the benchmark itself runs in CI as `python -m gan_lab bench --quick`."""

import pytest

from gan_lab import models
from gan_lab.bench.speed import (_measure_in_child, forward_flops, matmul_ceiling_gflops,
                           step_flops, table)


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
    row = {"model": "gan", "batch": 128, "loop": "gan_lab", "precision": "bfloat16",
           "images_per_s": 100.0, "seconds_per_epoch": 600.0, "peak_memory_mb": 1000,
           "mflop_per_image": 1.0, "gflop_per_s": 0.1, "share_of_ceiling": 0.25,
           "vs_baseline": 1.0}
    results = {"cpu": "AMD EPYC", "device": "CPU (2 cores)", "machine": "x86_64",
               "tensorflow": "2.21.0", "xla_by_default": True,
               "matmul_ceiling_gflop_per_s": {"float32": 120.4, "bfloat16": 400.0},
               "timed_steps": 4, "warmup_steps": 2, "repeats": 1, "rows": [row]}
    text = table(results)
    assert text.startswith("CPU: AMD EPYC; device: CPU (2 cores), x86_64; TensorFlow 2.21.0; "
                           "XLA by default: yes; matmul ceiling (GFLOP/s): float32 120, "
                           "bfloat16 400;")
    cells = [[cell.strip() for cell in line.strip("|").split("|")]
             for line in text.splitlines() if line.startswith("| gan ")]
    assert cells == [["gan", "128", "gan_lab", "100", "600", "1,000", "1.0", "0.1",
                      "25% of bfloat16", "1.00x"]]


def test_the_ceiling_counts_2_n_cubed_per_product_of_its_chain(monkeypatch):
    """The ceiling's arithmetic, on a clock that moves one second a reading: each timing
    runs the chain once (76 products of 512 x 512, about 20 GFLOP) in two seconds. How it
    compares with other timings is the benchmark's to print, not a test's: under load the
    ratio of two timings is anything (it failed CI once that way)."""
    clock = iter(range(1000))
    monkeypatch.setattr("gan_lab.bench.speed.time.perf_counter", lambda: float(next(clock)))
    chain = int(2e10 // (2 * 512**3))
    assert matmul_ceiling_gflops("float32", sizes=(512,), repeats=2, seconds=0.5) == (
        pytest.approx(chain * 2 * 512**3 / 2 / 1e9))


@pytest.mark.integration
def test_a_variant_measures_in_its_own_process():
    variant = "gan_lab steps_per_execution 8"
    # 9 steps after 8 warm-up ones: with 8 steps per execution the clock sees steps 7 and 15.
    measured = _measure_in_child(variant, "gan", 32, 8, 9)
    assert 10 < measured["images_per_s"] < 1e6 and measured["peak_memory_mb"] > 100


@pytest.mark.integration
def test_a_mixed_precision_variant_runs_under_its_policy():
    # The models' import configures the process; the variant's policy must come first.
    measured = _measure_in_child("gan_lab mixed_bfloat16", "gan", 16, 1, 2)
    assert measured["policy"] == "mixed_bfloat16" and measured["images_per_s"] > 0


def test_cpu_kind_names_the_vector_and_bfloat16_hardware():
    from gan_lab.bench.report import cpu_kind

    assert cpu_kind({"avx2", "fma"}, "AMD EPYC") == "AMD EPYC, AVX2"
    assert cpu_kind({"avx2", "avx512f", "avx512_bf16"}, "AMD EPYC") \
        == "AMD EPYC, AVX-512, AVX512-BF16"
    assert cpu_kind({"avx512f", "amx_bf16"}, "Xeon") == "Xeon, AVX-512, AMX-BF16"
    assert cpu_kind(set(), "arm64") == "arm64, flags unknown"


def test_the_benchmark_writes_its_table_into_its_own_section(tmp_path):
    """Each (kind of run, CPU kind) has one section; a new run replaces its table and
    leaves the prose and the other CPUs' tables alone."""
    from gan_lab.bench.report import write_doc_section

    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nProse stays.\n")
    assert write_doc_section(doc, "bench; CPU A", "| a | 1 |")
    assert write_doc_section(doc, "bench; CPU B", "| b | 2 |")
    assert not write_doc_section(doc, "bench; CPU A", "| a | 3 |")
    text = doc.read_text()
    assert text.startswith("# Performance\n\nProse stays.\n")
    assert "| a | 1 |" not in text and text.count("| a | 3 |") == 1 and "| b | 2 |" in text
    assert text.index("| a | 3 |") < text.index("| b | 2 |")  # replaced where it stood
    doc.write_text("<!-- measured: bench; CPU A -->\n| a |\n")
    with pytest.raises(ValueError, match="has no closing"):
        write_doc_section(doc, "bench; CPU A", "| a | 4 |")
