"""Every release's saved .keras files still load and compute the same outputs."""

import pathlib

import keras
import numpy as np
import pytest

FOLDER = pathlib.Path(__file__).resolve().parents[1] / "saved_models"
FILES = sorted(FOLDER.glob("v*/*.keras"))


def test_there_are_saved_models():
    assert FILES, "saved_models/ has no .keras files: run saved_models/make.py"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_loads_and_reproduces(path):
    model = keras.models.load_model(path)
    data = np.load(path.with_suffix(".npz"))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(data["x"])), data["y"], rtol=1e-5, atol=1e-6
    )
