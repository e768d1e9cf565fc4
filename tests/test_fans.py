import keras
import pytest

import keras_inits as ki
from keras_inits.fans import einsum_axes


def _kernel_shape(layer, input_shape):
    layer.build(input_shape)
    return tuple(layer.kernel.shape)


@pytest.mark.parametrize(
    "layer,input_shape,expected",
    [
        (keras.layers.Dense(7), (None, 5), (5, 7)),
        (keras.layers.Conv1D(6, 3), (None, 10, 4), (3 * 4, 3 * 6)),
        (keras.layers.Conv2D(6, (3, 5)), (None, 10, 10, 4), (15 * 4, 15 * 6)),
        (keras.layers.Conv3D(2, 3), (None, 6, 6, 6, 4), (27 * 4, 27 * 2)),
    ],
)
def test_keras_layer_kernels(layer, input_shape, expected):
    assert ki.compute_fans(_kernel_shape(layer, input_shape)) == expected


def test_rank_zero_and_one_like_keras():
    assert ki.compute_fans(()) == (1, 1)
    assert ki.compute_fans((9,)) == (9, 9)


def test_explicit_axes_jax_semantics():
    # (heads, in, out) per-head kernel: heads are a batch axis, not receptive field.
    assert ki.compute_fans((4, 8, 16), in_axis=1, out_axis=2, batch_axis=0) == (8, 16)
    # tuple axes multiply; the rest is receptive field.
    assert ki.compute_fans((3, 8, 2, 16), in_axis=(1, 2), out_axis=3) == (3 * 16, 3 * 16)
    assert ki.compute_fans((64, 4, 16), in_axis=0, out_axis=(1, 2)) == (64, 64)


def test_matches_jax_when_installed():
    jax_init = pytest.importorskip("jax._src.nn.initializers")
    compute = getattr(jax_init, "_compute_fans", None)
    if compute is None:
        pytest.skip("jax has no _compute_fans")

    for shape, kw in [
        ((3, 3, 4, 8), {}),
        ((4, 8, 16), dict(in_axis=1, out_axis=2, batch_axis=0)),
        ((3, 8, 2, 16), dict(in_axis=(1, 2), out_axis=3)),
    ]:
        fan_in, fan_out = compute(shape, **kw)
        assert ki.compute_fans(shape, **kw) == (int(fan_in), int(fan_out))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(in_axis=5), "in_axis"),
        (dict(in_axis=0, out_axis=0), "share"),
        (dict(in_axis=(0, 0)), "same axis"),
        (dict(out_axis=1.5), "out_axis"),
    ],
)
def test_bad_axes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ki.compute_fans((3, 4, 5), **kwargs)


BAD_SHAPES = [(3, -1), (3, 2.5), (None, 3), "ab", 5, (3, True), [[3]]]


@pytest.mark.parametrize("shape", BAD_SHAPES)
def test_bad_shapes_are_value_errors(shape):
    # A bad shape is a ValueError whatever is wrong with it (README: "raises a
    # ValueError naming the argument for ... impossible shapes").
    with pytest.raises(ValueError, match="Argument `shape`"):
        ki.compute_fans(shape)
    with pytest.raises(ValueError, match="Argument `shape`"):
        ki.einsum_fans("ab,bc->ac", shape)


def test_einsum_dense_fans_match_keras_axes():
    layer = keras.layers.EinsumDense("abc,cde->abde", output_shape=(None, 4, 8))
    layer.build((None, 10, 32))
    assert ki.einsum_fans(layer.equation, layer.kernel.shape) == (32, 4 * 8)
    assert einsum_axes("abc,cde->abde") == ([0], [1, 2])


def test_multi_head_attention_kernels():
    d_model, heads, key_dim = 32, 4, 8
    mha = keras.layers.MultiHeadAttention(heads, key_dim)
    x = keras.Input((6, d_model))
    mha(x, x)
    for dense in (mha.query_dense, mha.key_dense, mha.value_dense):
        # Keras' conv convention would say fan_in = heads * d_model.
        assert ki.einsum_fans(dense.equation, dense.kernel.shape) == (d_model, heads * key_dim)
    out = mha.output_dense
    assert ki.einsum_fans(out.equation, out.kernel.shape) == (heads * key_dim, d_model)


def test_einsum_errors():
    with pytest.raises(ValueError, match="equation"):
        ki.einsum_fans("abc->ab", (2, 3))
    with pytest.raises(ValueError, match="rank"):
        ki.einsum_fans("ab,bc->ac", (2, 3, 4))
    with pytest.raises(TypeError, match="equation"):
        ki.einsum_fans(3, (2, 3))
