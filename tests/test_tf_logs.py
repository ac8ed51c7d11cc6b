"""TensorFlow's known start-up notices are dropped at fd 2; every other line, C-level or Python, still shows."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_training_prints_no_known_notices_but_real_errors_pass_through():
    script = textwrap.dedent("""
        import os, sys
        import numpy as np
        from recpipeline.model.tf_logs import known_notices_filtered
        from recpipeline.model import ModelParams, TrainingSet, train
        with known_notices_filtered():
            os.write(2, b"a real problem, written by C code\\n")
            rng = np.random.default_rng(0)
            seqs = [rng.integers(1, 30, 6).astype("int32") for _ in range(40)]
            data = TrainingSet(29, seqs, [np.ones(6, "int32") for _ in seqs], None)
            train(data, ModelParams(embedding_dim=8, epochs=1), log=lambda m: print(m, file=sys.stderr))
        print("after the block", file=sys.stderr)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "a real problem, written by C code" in out.stderr and "epoch 1/1" in out.stderr
    assert "after the block" in out.stderr  # fd 2 is restored
    for notice in ("oneDNN", "absl::InitializeLog", "E0000"):
        assert notice not in out.stderr, notice
