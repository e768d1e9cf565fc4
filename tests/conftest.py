import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

import keras_inits  # noqa: E402,F401  (registers every class)


@pytest.fixture(autouse=True)
def _reset_keras_state():
    """Each test starts with float32 policy and a fresh Keras session."""
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()


def backend():
    return keras.backend.backend()
