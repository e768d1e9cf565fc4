"""Tests that kill mutants of keras_inits/fans.py (benchmarks/mutation_score.py).

Each checks a value derived by hand, not with the module's own formula.
"""

import keras
import pytest

from keras_inits.fans import gate_count


# Layers are made in the test, not at import: a recurrent layer creates a seed
# variable, and an op run at collection starts TensorFlow's thread pools in the
# process mutmut forks from (see benchmarks/_mutmut_gc_freeze.py).
@pytest.mark.parametrize(
    "make,gates",
    [(keras.layers.LSTM, 4), (keras.layers.GRU, 3), (keras.layers.SimpleRNN, 1),
     (keras.layers.LSTMCell, 4), (keras.layers.GRUCell, 3)],
)
def test_gate_count_of_recurrent_layers_and_cells(make, gates):
    # Keras stacks the gate blocks i, f, c, o (LSTM) and z, r, h (GRU).
    assert gate_count(make(3)) == gates


def test_gate_count_of_a_dense_layer_names_it():
    with pytest.raises(ValueError, match="'d1' \\(Dense\\) is not an LSTM, GRU or"):
        gate_count(keras.layers.Dense(3, name="d1"))


def test_layer_fans_are_python_ints():
    # "Returns: (fan_in, fan_out) as Python ints": per-gate and grouped fans divide.
    lstm = keras.layers.LSTM(3)
    lstm.build((None, 2, 5))
    grouped = keras.layers.Conv2D(8, 3, groups=2)
    grouped.build((None, 6, 6, 4))
    from keras_inits.fans import layer_fans

    assert layer_fans(lstm, lstm.cell.kernel) == (5, 3)
    assert layer_fans(grouped, grouped.kernel) == (9 * 2, 9 * 4)
    for fans in (layer_fans(lstm, lstm.cell.kernel), layer_fans(grouped, grouped.kernel)):
        assert all(type(f) is int for f in fans)


def test_layer_fans_errors_name_the_variable_and_the_layer():
    from keras_inits.fans import layer_fans

    dense, other = keras.layers.Dense(3, name="d"), keras.layers.Dense(2, name="o")
    dense.build((None, 4))
    other.build((None, 4))
    with pytest.raises(ValueError, match=f"^Variable '{other.kernel.path}' is not a weight of "
                                         "layer 'd'"):
        layer_fans(dense, other.kernel)
    with pytest.raises(ValueError, match="^Variable 'x' is not a weight of layer 'd'"):
        layer_fans(dense, "x")
    with pytest.raises(ValueError, match=r"of layer 'd' \(Dense\): it is not one of the "
                                         "layer's kernels"):
        layer_fans(dense, dense.bias)


@pytest.mark.parametrize("axis", [2, -3])
def test_compute_fans_axis_just_out_of_range_is_a_value_error(axis):
    # Valid axes of a rank-2 shape are [-2, 2): 2 and -3 are the first outside.
    from keras_inits.fans import compute_fans

    with pytest.raises(ValueError, match=r"^Argument `in_axis` must hold axes in \[-2, 2\) "
                                         r"for a rank-2 shape"):
        compute_fans((3, 4), in_axis=axis, out_axis=1)


@pytest.mark.parametrize("axis", [True, (1.0,), (0, 0.5)])
def test_compute_fans_non_int_axes_are_refused(axis):
    # A bool is an int subclass but not an axis; a float is not an axis even
    # when it is in range.
    from keras_inits.fans import compute_fans

    with pytest.raises(ValueError, match="^Argument `out_axis` must hold axes"):
        compute_fans((3, 4, 5), in_axis=0, out_axis=axis)


@pytest.mark.parametrize("name", ["in_axis", "out_axis", "batch_axis"])
def test_compute_fans_errors_name_the_argument(name):
    from keras_inits.fans import compute_fans

    axes = {"in_axis": 0, "out_axis": 1, "batch_axis": 2, name: 7}
    with pytest.raises(ValueError, match=f"^Argument `{name}` must hold axes in "
                                         rf"\[-3, 3\) for a rank-3 shape. Received: {name}=\(7,\)"):
        compute_fans((3, 4, 5), **axes)


@pytest.mark.parametrize("axes", [
    {"in_axis": 0, "out_axis": 0, "batch_axis": 2},  # in & out only
    {"in_axis": 0, "out_axis": 1, "batch_axis": 0},  # in & batch only
    {"in_axis": 0, "out_axis": 1, "batch_axis": 1},  # out & batch only
])
def test_compute_fans_any_overlapping_pair_of_axis_sets_is_refused(axes):
    from keras_inits.fans import compute_fans

    with pytest.raises(ValueError, match="^Arguments `in_axis`, `out_axis` and `batch_axis` "
                                         "must not share an axis"):
        compute_fans((3, 4, 5), **axes)


def test_einsum_fans_rank_error_states_the_equations_kernel_rank():
    # "ab,bcd->acd" has kernel "bcd": input axis b, output axes c and d: rank 3.
    from keras_inits.fans import einsum_fans

    with pytest.raises(ValueError, match="^Argument `kernel_shape` has rank 2 but equation "
                                         "'ab,bcd->acd' has a rank-3 kernel"):
        einsum_fans("ab,bcd->acd", (4, 5))
