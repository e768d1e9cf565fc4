"""`python -m keras_inits report`: output, plot, exit codes and messages."""

import os
import subprocess
import sys

import keras
import numpy as np

from keras_inits.diagnostics.cli import run_report


def saved(tmp_path, model, name="m.keras"):
    path = tmp_path / name
    model.save(path)
    return str(path)


def mlp():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(8, activation="relu", kernel_initializer="kaiming_normal"), keras.layers.Dense(2)])


def test_report_prints_table_and_writes_plot(tmp_path, capsys):
    path = saved(tmp_path, mlp())
    assert run_report(path, batch=16, plot=str(tmp_path / "p.png")) == 0
    out = capsys.readouterr().out
    assert "SignalReport" in out and "findings" in out
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_report_with_data_file(tmp_path, capsys):
    path = saved(tmp_path, mlp())
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((10, 8)).astype("float32"))
    assert run_report(path, data=str(tmp_path / "x.npy")) == 0


def test_errors(tmp_path, capsys):
    assert run_report(str(tmp_path / "missing.keras")) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "junk.keras").write_text("not a model")
    assert run_report(str(tmp_path / "junk.keras")) == 2
    assert "not a Keras model" in capsys.readouterr().err
    inp = keras.Input((5,), dtype="int32", name="tokens")
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Embedding(10, 4)(inp)))
    assert run_report(saved(tmp_path, model, "tok.keras")) == 2
    assert "--data tokens.npy" in capsys.readouterr().err


def test_subprocess_exit_codes(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    path = saved(tmp_path, mlp())
    ok = subprocess.run([sys.executable, "-m", "keras_inits", "report", path, "--batch", "8"],
                        capture_output=True, text=True, timeout=300, env=env)
    assert ok.returncode == 0 and "SignalReport" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "keras_inits", "report", str(tmp_path / "nope.keras")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert bad.returncode == 2 and "no such file" in bad.stderr
