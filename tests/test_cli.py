"""The CLI: list, compare (tiny), and the console-script equivalence."""

import os
import subprocess
import sys

import keras
import pytest

from keras_inits.__main__ import build_parser, main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "keras_inits", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )


def test_list_prints_every_alias(capsys):
    import keras_inits as ki

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for entry in ki.list_initializers():
        assert entry.alias in out and entry.reference in out


def test_unknown_command_exits_2():
    result = run("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_compare_defaults():
    args = build_parser().parse_args(["compare"])
    assert (args.full, args.seed, args.plot) == (False, 0, "compare.png")


@pytest.mark.slow
def test_compare_tiny_run_writes_table_and_plot(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "keras_inits", "compare", "--only", "kaiming",
         "--epochs", "1", "--plot", str(tmp_path / "c.png")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "kaiming_normal" in result.stdout and "test acc" in result.stdout
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
