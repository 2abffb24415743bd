"""Benchmarks, apart from the core: ``speed`` (steps a second against the TensorFlow DCGAN
tutorial's loop and the CPU's matmul ceiling: ``gan-lab bench``) and ``time_to_digits`` (CPU
seconds until the samples pass the quality targets: ``gan-lab bench --quality``), and
``report``, which writes their tables into docs/performance.md (``--doc``)."""
