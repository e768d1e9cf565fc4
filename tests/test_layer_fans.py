"""layer_fans: exact fans per Keras layer type, derived from each layer's config.

Expected values are written from the layer's configuration (kernel size,
channels, groups, gates) and, for convolutions, from torch's documented rule
(``torch.nn.init._calculate_fan_in_and_fan_out`` on a weight laid out
``(out, in/groups, k...)``: fan_in = size(1) * R, fan_out = size(0) * R).
"""

import math

import keras
import pytest

from keras_inits.fans import layer_fans

L = keras.layers


def built(layer, input_shape):
    layer.build(input_shape)
    return layer


def torch_rule(weight_shape):
    """torch's documented fan rule on a torch-layout weight (out, in, k...)."""
    receptive = math.prod(weight_shape[2:])
    return weight_shape[1] * receptive, weight_shape[0] * receptive


def test_dense():
    layer = built(L.Dense(7), (None, 5))
    assert layer_fans(layer, layer.kernel) == (5, 7)


@pytest.mark.parametrize(
    "make,in_shape,kernel_size",
    [
        (lambda: L.Conv1D(6, 5), (None, 9, 4), (5,)),
        (lambda: L.Conv2D(6, (3, 2)), (None, 8, 8, 4), (3, 2)),
        (lambda: L.Conv3D(6, 3), (None, 5, 5, 5, 4), (3, 3, 3)),
    ],
)
def test_conv(make, in_shape, kernel_size):
    layer = built(make(), in_shape)
    cin, cout, r = in_shape[-1], layer.filters, math.prod(kernel_size)
    assert layer_fans(layer, layer.kernel) == (r * cin, r * cout)
    assert layer_fans(layer, layer.kernel) == torch_rule((cout, cin, *kernel_size))


@pytest.mark.parametrize("groups", [2, 4])
def test_grouped_conv_counts_one_group(groups):
    cin, cout, k = 8, 12, 3
    layer = built(L.Conv2D(cout, k, groups=groups), (None, 6, 6, cin))
    fan_in, fan_out = layer_fans(layer, layer.kernel)
    assert fan_in == k * k * cin // groups
    assert fan_out == k * k * cout // groups
    # fan_in is torch's; torch's fan_out reads the weight's first axis (all groups).
    torch_in, torch_out = torch_rule((cout, cin // groups, k, k))
    assert fan_in == torch_in and fan_out * groups == torch_out


@pytest.mark.parametrize(
    "make,in_shape,kernel_size,multiplier",
    [
        (lambda: L.DepthwiseConv2D(3), (None, 8, 8, 16), (3, 3), 1),
        (lambda: L.DepthwiseConv2D((3, 5), depth_multiplier=2), (None, 8, 8, 16), (3, 5), 2),
        (lambda: L.DepthwiseConv1D(5, depth_multiplier=3), (None, 9, 6), (5,), 3),
    ],
)
def test_depthwise_is_a_grouped_conv_with_groups_in(make, in_shape, kernel_size, multiplier):
    layer = built(make(), in_shape)
    r, cin = math.prod(kernel_size), in_shape[-1]
    assert layer_fans(layer, layer.kernel) == (r, r * multiplier)
    # The same operation as Conv(groups=in, filters=in*m) gets the same fans.
    conv_cls = L.Conv2D if len(kernel_size) == 2 else L.Conv1D
    conv = built(conv_cls(cin * multiplier, kernel_size, groups=cin), in_shape)
    assert layer_fans(conv, conv.kernel) == (r, r * multiplier)
    # fan_in equals torch's on the depthwise weight (in*m, 1, k...).
    assert layer_fans(layer, layer.kernel)[0] == torch_rule((cin * multiplier, 1, *kernel_size))[0]


@pytest.mark.parametrize(
    "make,in_shape,kernel_size",
    [
        (lambda: L.SeparableConv2D(10, 3, depth_multiplier=2), (None, 8, 8, 4), (3, 3)),
        (lambda: L.SeparableConv1D(10, 5, depth_multiplier=3), (None, 9, 4), (5,)),
    ],
)
def test_separable(make, in_shape, kernel_size):
    layer = built(make(), in_shape)
    r, cin, m = math.prod(kernel_size), in_shape[-1], layer.depth_multiplier
    assert layer_fans(layer, layer.depthwise_kernel) == (r, r * m)
    assert layer_fans(layer, layer.pointwise_kernel) == (cin * m, layer.filters)


@pytest.mark.parametrize(
    "make,in_shape,kernel_size",
    [
        (lambda: L.Conv1DTranspose(12, 3), (None, 7, 4), (3,)),
        (lambda: L.Conv2DTranspose(12, 3, strides=2), (None, 5, 5, 4), (3, 3)),
        (lambda: L.Conv3DTranspose(12, 2), (None, 3, 3, 3, 4), (2, 2, 2)),
    ],
)
def test_transposed_conv_reads_input_channels_from_the_last_axis(make, in_shape, kernel_size):
    layer = built(make(), in_shape)
    cin, cout, r = in_shape[-1], layer.filters, math.prod(kernel_size)
    assert tuple(layer.kernel.shape) == (*kernel_size, cout, cin)  # Keras' layout
    assert layer_fans(layer, layer.kernel) == (r * cin, r * cout)
    # torch's rule on the equivalent forward conv (in -> out) agrees; on torch's
    # own ConvTranspose weight (in, out, k...) it swaps them, as Keras' does.
    assert layer_fans(layer, layer.kernel) == torch_rule((cout, cin, *kernel_size))
    assert torch_rule((cin, cout, *kernel_size)) == (r * cout, r * cin)


def test_torch_rule_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.init import _calculate_fan_in_and_fan_out

    for conv in (
        torch.nn.Conv2d(8, 12, 3, groups=4),
        torch.nn.Conv1d(6, 18, 5, groups=6),
        torch.nn.ConvTranspose2d(4, 12, 3),
    ):
        shape = tuple(conv.weight.shape)
        assert _calculate_fan_in_and_fan_out(conv.weight) == torch_rule(shape)


def test_depthwise_fan_in_is_torch_fan_out_is_one_group():
    """The fans.py docstring's example, against torch itself: a 3x3 depthwise
    conv on 32 channels with multiplier 4 (torch: Conv2d(32, 128, 3, groups=32)).
    torch reads fan_out from the weight's first axis, all 128 outputs: 9 * 128
    = 1152; one input channel really reaches its 4 outputs over the window:
    9 * 4 = 36. fan_in agrees (9)."""
    torch = pytest.importorskip("torch")
    from torch.nn.init import _calculate_fan_in_and_fan_out

    assert _calculate_fan_in_and_fan_out(torch.nn.Conv2d(32, 128, 3, groups=32).weight) == (9, 1152)
    layer = built(L.DepthwiseConv2D(3, depth_multiplier=4), (None, 8, 8, 32))
    assert layer_fans(layer, layer.kernel) == (9, 36)


@pytest.mark.parametrize(
    "make,gates",
    [
        (lambda: L.LSTM(5), 4),
        (lambda: L.GRU(5), 3),
        (lambda: L.GRU(5, reset_after=False), 3),
        (lambda: L.SimpleRNN(5), 1),
    ],
)
def test_recurrent_per_gate(make, gates):
    units, features = 5, 7
    layer = built(make(), (None, 3, features))
    cell = layer.cell
    assert tuple(cell.kernel.shape) == (features, gates * units)
    assert tuple(cell.recurrent_kernel.shape) == (units, gates * units)
    for owner in (layer, cell):
        assert layer_fans(owner, cell.kernel) == (features, units)
        assert layer_fans(owner, cell.recurrent_kernel) == (units, units)
    with pytest.raises(ValueError, match="not one of the layer's kernels"):
        layer_fans(cell, cell.bias)


def test_gru_reset_after_bias_shape():
    gru = built(L.GRU(5), (None, 3, 7))
    assert tuple(gru.cell.bias.shape) == (2, 3 * 5)
    assert tuple(built(L.GRU(5, reset_after=False), (None, 3, 7)).cell.bias.shape) == (15,)


def test_einsum_dense_from_equation():
    layer = built(L.EinsumDense("abc,cde->abde", output_shape=(None, 4, 6)), (None, 3, 10))
    assert layer_fans(layer, layer.kernel) == (10, 4 * 6)
    layer = built(L.EinsumDense("abcd,cde->abe", output_shape=(None, 8)), (None, 3, 4, 6))
    assert layer_fans(layer, layer.kernel) == (4 * 6, 8)


def test_multi_head_attention_projections():
    d_model, heads, key_dim, value_dim, out_dim = 24, 4, 5, 3, 10
    mha = L.MultiHeadAttention(heads, key_dim, value_dim=value_dim, output_shape=out_dim)
    q, v = keras.Input((6, d_model)), keras.Input((7, 16))
    mha(q, v)
    assert layer_fans(mha.query_dense, mha.query_dense.kernel) == (d_model, heads * key_dim)
    assert layer_fans(mha.key_dense, mha.key_dense.kernel) == (16, heads * key_dim)
    assert layer_fans(mha.value_dense, mha.value_dense.kernel) == (16, heads * value_dim)
    assert layer_fans(mha.output_dense, mha.output_dense.kernel) == (heads * value_dim, out_dim)


def test_embedding_is_a_one_hot_lookup():
    layer = built(L.Embedding(50, 12), (None, 3))
    assert layer_fans(layer, layer.embeddings) == (1, 12)


def test_errors():
    dense = built(L.Dense(3), (None, 2))
    other = built(L.Dense(3), (None, 2))
    with pytest.raises(ValueError, match="is not a weight of layer"):
        layer_fans(dense, other.kernel)
    with pytest.raises(ValueError, match="not one of the layer's kernels"):
        layer_fans(dense, dense.bias)
    prelu = built(L.PReLU(), (None, 4))
    with pytest.raises(ValueError, match="PReLU.*has no fan rule"):
        layer_fans(prelu, prelu.alpha)
    lora = built(L.Dense(3, lora_rank=2), (None, 4))
    with pytest.raises(ValueError, match="not one of the layer's kernels"):
        layer_fans(lora, lora.lora_kernel_a)
    bidirectional = built(L.Bidirectional(L.LSTM(3)), (None, 2, 4))
    with pytest.raises(ValueError, match="Bidirectional.*has no fan rule"):
        layer_fans(bidirectional, bidirectional.forward_layer.cell.kernel)
