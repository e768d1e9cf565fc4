"""Every script in examples/ runs with --smoke (tiny settings) and exits 0."""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    if "mirrored" in script.stem and keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute example: TensorFlow backend only")
    result = subprocess.run(
        [sys.executable, str(script), "--smoke"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert result.stdout.strip(), "an example should say what it found"
