"""`python -m keras_inits report MODEL.keras`: a signal report of a saved model."""

from __future__ import annotations

import os
import sys
import zipfile

import numpy as np


def _error(message) -> int:
    print(f"keras_inits report: error: {message}", file=sys.stderr)
    return 2


def _random_batch(model, batch, seed):
    """A standard-normal batch shaped like the model's inputs (float inputs only)."""
    rng = np.random.default_rng(seed)
    inputs = model.inputs
    arrays = []
    for tensor in inputs:
        if "float" not in str(tensor.dtype):
            return None, (
                f"input {tensor.name!r} is {tensor.dtype}: a random-normal batch cannot "
                f"feed it. Pass --data {tensor.name}.npy with a real batch of shape "
                f"(N, {', '.join(str(d) for d in tensor.shape[1:])})."
            )
        if any(d is None for d in tensor.shape[1:]):
            return None, (
                f"input {tensor.name!r} has an unknown dimension {tuple(tensor.shape)}: "
                "pass --data with a real batch."
            )
        arrays.append(rng.standard_normal((batch, *tensor.shape[1:])).astype("float32"))
    return (arrays[0] if len(arrays) == 1 else arrays), None


def run_report(path, batch=32, data=None, plot=None, seed=0) -> int:
    """Load `path`, print its signal report and findings; 0 on success, 2 on a user error."""
    import keras

    import keras_inits  # noqa: F401  (registers keras_inits classes before loading)
    from keras_inits.diagnostics.signal import signal_report

    if batch < 2:
        return _error(f"--batch must be at least 2. Received: --batch {batch}")
    if not os.path.isfile(path):
        return _error(f"no such file: {path}")
    if not zipfile.is_zipfile(path):
        return _error(f"{path} is not a Keras model file (.keras archive)")
    try:
        model = keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001  (any load failure is reported to the user)
        return _error(f"could not load {path} as a Keras model: {err}")
    if data is not None:
        if not os.path.isfile(data):
            return _error(f"no such data file: {data}")
        x = np.load(data)
    else:
        x, problem = _random_batch(model, batch, seed)
        if problem:
            return _error(problem)
    try:
        report = signal_report(model, x)
    except (ValueError, TypeError) as err:
        return _error(str(err))
    print(report)
    if plot:
        report.plot(plot)
        print(f"plot written to {plot}")
    return 0
