import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

import keras_inits  # noqa: E402,F401  (registers every class)


def pytest_collection_finish(session):
    """Freeze what exists after collection (TensorFlow, JAX, torch, keras_hub
    and their module state: millions of objects alive to the end of the run)
    so that the ``gc.collect()`` of every test's ``clear_session()`` walks
    only what the test made: about 1.8 s per test otherwise (TensorFlow full
    run 24 min -> see README, Backends)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _reset_keras_state():
    """Each test starts with float32 policy and a fresh Keras session."""
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()


# Test files that make up the `core` subset CI also runs on jax and torch
# (README, "Backends and distribution"): everything but the slow end-to-end
# runs (examples, CLI compare, distribution children), which run on TensorFlow.
CORE_FILES = (
    "initializers/",
    "test_fans.py",
    "test_gain.py",
    "test_registry.py",
    "test_saving.py",
    "test_saved_models.py",
    "test_graph.py",
    "test_layer_fans.py",
    "test_reinit.py",
    "test_lsuv.py",
    "test_data_dependent.py",
    "test_callbacks.py",
    "test_residual.py",
    "test_transformer.py",
    "test_signal_report.py",
    "test_theory.py",
    "test_metainit.py",
    "test_structure.py",
    "test_host.py",
    "test_auto.py",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.path.as_posix()
        if any(f"/tests/{name}" in path for name in CORE_FILES):
            item.add_marker(pytest.mark.core)
    if keras.backend.backend() == "tensorflow":
        return
    skip = pytest.mark.skip(reason="needs the TensorFlow backend (tf.data / tf.distribute)")
    for item in items:
        if "tf_only" in item.keywords:
            item.add_marker(skip)
