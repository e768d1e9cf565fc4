"""Distribution engines: TF MirroredStrategy and JAX DataParallel/ModelParallel.

Each runs in a child interpreter (devices must be configured before the
backend starts), whatever backend this test session uses.
"""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent / "distributed"


def run_child(script):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    result = subprocess.run(
        [sys.executable, str(HERE / script)], capture_output=True, text=True, timeout=600, env=env
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.tf_only
def test_tf_mirrored_strategy():
    r = run_child("tf_mirrored_child.py")
    assert r["replicas"] == 2
    assert r["initializers_identical_replicas"]
    assert r["lsuv_rows"] == 3 and r["lsuv_converged"] and r["lsuv_replicas_identical"]
    assert abs(r["lsuv_first_layer_var_at_first_batch"] - 1.0) <= 0.1
    assert r["zero_last_zero_at_first_batch"]
    assert r["reinit_matches_direct_call"] and r["reinit_changed_kernels"]
    assert r["reinit_replicas_identical"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax not installed")
def test_jax_data_and_model_parallel():
    r = run_child("jax_sharded_child.py")
    assert r["devices"] == 2
    assert r["data_parallel_replicated_identical"]
    assert r["data_parallel_value_matches_unsharded_call"]
    assert r["data_parallel_lsuv_rows"] == 3
    assert r["model_parallel_sharded"] == [[16, 16], [16, 16]]
    assert r["model_parallel_value_matches_unsharded_call"]
    assert r["model_parallel_reinit_still_sharded"] == [[16, 16], [16, 16]]
