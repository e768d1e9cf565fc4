"""reinitialize: true fans correct Keras' own initializers; seeds, atomicity, skips.

Expected stds are written from the formulas: He ``sqrt(2 / fan_in)``, Glorot
``sqrt(2 / (fan_in + fan_out))``, with fans counted from each layer's config
(see tests/test_layer_fans.py); Keras' own stds are checked against the
factors DESIGN.md and BASELINES.md record.
"""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import assert_moments, to_numpy

L = keras.layers


def he(fan_in):
    return math.sqrt(2.0 / fan_in)


def glorot(fan_in, fan_out):
    return math.sqrt(2.0 / (fan_in + fan_out))


def model_of(layer, input_shape):
    x = keras.Input(input_shape)
    y = layer(x, x) if isinstance(layer, L.MultiHeadAttention) else layer(x)
    return keras.Model(x, y)


# (layer, input shape, variable getter, Keras scheme, its distribution, true std
# from the config, Keras' std / true std as DESIGN.md and BASELINES.md record it)
CASES = {
    "depthwise": (
        lambda: L.DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer="he_normal"),
        (4, 4, 32), lambda m: m.layers[1].kernel, "he_normal", "truncated_normal",
        # Keras' fan_in 3*3*32 = 288 (every input channel), true 3*3 = 9:
        # std ratio sqrt(9 / 288) = 1/sqrt(32) = 0.18
        he(3 * 3), 1 / math.sqrt(32),
    ),
    "separable": (
        lambda: L.SeparableConv2D(8, 3, depthwise_initializer="he_normal"),
        (4, 4, 32), lambda m: m.layers[1].depthwise_kernel, "he_normal", "truncated_normal",
        he(3 * 3), 1 / math.sqrt(32),
    ),
    "transpose": (
        lambda: L.Conv2DTranspose(32, 3, kernel_initializer="he_normal"),
        (3, 3, 8), lambda m: m.layers[1].kernel, "he_normal", "truncated_normal",
        # kernel (3, 3, 32, 8): Keras reads fan_in 9*32 = 288 off the out axis,
        # true 9*8 = 72: ratio sqrt(72 / 288) = sqrt(in / out) = 0.5
        he(3 * 3 * 8), 0.5,
    ),
    "lstm": (
        lambda: L.LSTM(16),  # Keras' default kernel_initializer: glorot_uniform
        (3, 16), lambda m: m.layers[1].cell.kernel, "glorot_uniform", "uniform",
        # Keras' fans (16, 4*16): sqrt(2/80) vs true sqrt(2/32): sqrt(32/80) = 0.63
        glorot(16, 16), math.sqrt(2 / 5),
    ),
    "gru": (
        lambda: L.GRU(16),
        (3, 16), lambda m: m.layers[1].cell.kernel, "glorot_uniform", "uniform",
        # Keras' fans (16, 3*16): sqrt(32/64) = 0.71
        glorot(16, 16), math.sqrt(2 / 4),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_reinitialize_corrects_keras_fans(case):
    make, shape, get, scheme, dist, true_std, keras_ratio = CASES[case]
    model = model_of(make(), shape)
    variable = get(model)
    # Before: Keras' own initializer is off by the recorded factor.
    assert_moments(variable, keras_ratio * true_std, dist=dist)
    ki.reinitialize(model, kernel=scheme, seed=0)
    assert_moments(variable, true_std, dist=dist)
    ki.reinitialize(model, kernel="kaiming_normal", seed=1)  # torch semantics: untruncated
    fan_in = {"depthwise": 9, "separable": 9, "transpose": 72, "lstm": 16, "gru": 16}[case]
    assert_moments(variable, he(fan_in))


def test_attention_projections_use_the_equation():
    d_model, heads, key_dim = 32, 4, 8
    mha = L.MultiHeadAttention(heads, key_dim, kernel_initializer="he_normal", name="mha")
    model = model_of(mha, (4, d_model))
    shape = tuple(mha.query_dense.kernel.shape)  # (d_model, heads, key_dim)
    # Keras >= 3.15 hands he_normal the einsum axes inside the layer: right std.
    assert_moments(mha.query_dense.kernel, he(d_model), dist="truncated_normal")
    # Called on the shape (keras <= 3.14 in the layer, or any wrapper that does
    # so) it counts heads * d_model inputs: 1/sqrt(heads) of the true std.
    on_shape = keras.initializers.HeNormal(seed=0)(shape)
    assert_moments(on_shape, he(heads * d_model), dist="truncated_normal")
    ki.reinitialize(model, kernel="kaiming_normal", seed=2)
    for dense in (mha.query_dense, mha.key_dense, mha.value_dense):
        assert_moments(dense.kernel, he(d_model))
    assert_moments(mha.output_dense.kernel, he(heads * key_dim))
    kernels = [to_numpy(d.kernel).tobytes() for d in (mha.query_dense, mha.key_dense, mha.value_dense)]
    assert len(set(kernels)) == 3


def gate_blocks(cell):
    rk = to_numpy(cell.recurrent_kernel).astype("float64")
    return [rk[:, g * cell.units:(g + 1) * cell.units] for g in range(rk.shape[1] // cell.units)]


@pytest.mark.parametrize("make", [lambda: L.LSTM(8), lambda: L.GRU(8), lambda: L.SimpleRNN(8)])
@pytest.mark.parametrize("seed", [3, None])
def test_recurrent_gate_blocks_orthogonal_and_distinct(make, seed):
    model = model_of(make(), (3, 5))
    cell = model.layers[1].cell
    ki.reinitialize(model, seed=seed)
    blocks = gate_blocks(cell)
    for block in blocks:
        np.testing.assert_allclose(block.T @ block, np.eye(8), atol=1e-5)
    assert len({b.tobytes() for b in blocks}) == len(blocks)


def test_keras_orthogonal_is_not_orthogonal_per_gate():
    model = model_of(L.LSTM(8), (3, 5))  # Keras' default recurrent init: orthogonal
    errors = [np.abs(b.T @ b - np.eye(8)).max() for b in gate_blocks(model.layers[1].cell)]
    assert max(errors) > 0.1


def test_non_fan_kernel_scheme_is_drawn_per_gate():
    model = model_of(L.LSTM(4), (3, 6))
    cell = model.layers[1].cell
    ki.reinitialize(model, kernel="orthogonal", seed=0)
    kernel = to_numpy(cell.kernel).astype("float64")
    for g in range(4):
        block = kernel[:, g * 4:(g + 1) * 4]  # (6, 4): orthonormal columns
        np.testing.assert_allclose(block.T @ block, np.eye(4), atol=1e-5)


def test_biases_norms_and_embeddings():
    tokens = keras.Input((5,), dtype="int32")
    h = L.Embedding(64, 16, name="emb")(tokens)
    h = L.LSTM(6, return_sequences=True, name="lstm")(h)
    h = L.GRU(6, return_sequences=True, name="gru")(h)
    h = L.BatchNormalization(name="bn")(h)
    h = L.RMSNormalization(name="rms")(h)
    h = L.Dense(3, bias_initializer="ones", name="head")(h)
    model = keras.Model(tokens, h)
    for v in model.weights:
        v.assign(np.full(v.shape, 0.5, "float32"))
    report = ki.reinitialize(model, kernel="lecun_normal", seed=0)
    lstm_bias = to_numpy(model.get_layer("lstm").cell.bias)
    np.testing.assert_array_equal(lstm_bias, np.r_[np.zeros(6), np.ones(6), np.zeros(12)])
    assert to_numpy(model.get_layer("gru").cell.bias).shape == (2, 18)
    np.testing.assert_array_equal(to_numpy(model.get_layer("gru").cell.bias), 0.0)
    np.testing.assert_array_equal(to_numpy(model.get_layer("head").bias), 0.0)
    bn = model.get_layer("bn")
    for var, value in ((bn.gamma, 1), (bn.beta, 0), (bn.moving_mean, 0), (bn.moving_variance, 1)):
        np.testing.assert_array_equal(to_numpy(var), value)
    np.testing.assert_array_equal(to_numpy(model.get_layer("rms").scale), 1.0)
    # Embedding: fans (1, d), so lecun_normal gives N(0, 1) (torch's default).
    assert_moments(model.get_layer("emb").embeddings, 1.0, dist="truncated_normal")
    assert not report.skipped
    assert len(report.rows) == len(model.weights)


def test_unit_forget_bias_off_uses_the_bias_scheme():
    model = model_of(L.LSTM(4, unit_forget_bias=False), (3, 5))
    ki.reinitialize(model, bias="ones", seed=0)
    np.testing.assert_array_equal(to_numpy(model.layers[1].cell.bias), 1.0)


def test_report_rows_give_the_fans_and_stds():
    model = model_of(L.DepthwiseConv2D(3, depth_multiplier=2, name="dw"), (4, 4, 8))
    report = ki.reinitialize(model, seed=0)
    row = next(r for r in report.rows if r.layer.endswith("dw/kernel"))
    assert row.note == "fans (9, 18)"
    assert row.action == "kernel: KaimingNormal"
    assert row.after == pytest.approx(float(np.std(to_numpy(model.get_layer("dw").kernel))), rel=1e-4)
    assert row.before != row.after
    assert "dw/kernel" in str(report)


def all_float_values(model):
    return [to_numpy(v).copy() for v in model.weights]


def mixed_model():
    x = keras.Input((6, 8))
    h = L.Dense(8, name="d1")(x)
    h = L.Dense(8, name="d2")(h)
    h = L.MultiHeadAttention(2, 4, name="mha")(h, h)
    h = L.Bidirectional(L.LSTM(8, return_sequences=True), name="bi")(h)
    h = L.Dense(8, name="d3")(h)
    return keras.Model(x, h)


@pytest.mark.parametrize("seed", [0, None])
def test_no_two_variables_identical(seed):
    model = mixed_model()
    shared = keras.initializers.Orthogonal(seed=7)  # one instance, one seed
    ki.reinitialize(model, kernel=shared, recurrent=shared, seed=seed)
    random_values = [
        to_numpy(v).tobytes() for v in model.weights if "bias" not in v.path
    ]
    assert len(set(random_values)) == len(random_values)
    for direction in ("forward_layer", "backward_layer"):
        blocks = gate_blocks(getattr(model.get_layer("bi"), direction).cell)
        assert len({b.tobytes() for b in blocks}) == 4


def test_int_seed_is_deterministic():
    a, b = mixed_model(), mixed_model()  # Keras auto-names differ between the two
    ki.reinitialize(a, seed=5)
    ki.reinitialize(b, seed=5)
    for va, vb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(to_numpy(va), to_numpy(vb))
    first = all_float_values(a)
    ki.reinitialize(a, seed=5)
    for x, v in zip(first, a.weights):
        np.testing.assert_array_equal(x, to_numpy(v))
    ki.reinitialize(a, seed=6)
    assert not np.array_equal(first[0], to_numpy(a.weights[0]))


def test_unseeded_follows_keras_set_random_seed():
    model = mixed_model()
    keras.utils.set_random_seed(11)
    ki.reinitialize(model)
    first = all_float_values(model)
    keras.utils.set_random_seed(11)
    ki.reinitialize(model)
    for x, v in zip(first, model.weights):
        np.testing.assert_array_equal(x, to_numpy(v))
    ki.reinitialize(model)
    assert not np.array_equal(first[0], to_numpy(model.weights[0]))


class FailsOnThirdCall(keras.initializers.Initializer):
    def __init__(self):
        self.calls = 0

    def __call__(self, shape, dtype=None):
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("boom on call 3")
        return keras.ops.full(shape, 0.25, dtype=dtype)


class NaNs(keras.initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return keras.ops.full(shape, float("nan"), dtype=dtype)


def test_failure_mid_way_restores_every_weight_bitwise():
    model = mixed_model()
    before = all_float_values(model)
    init = FailsOnThirdCall()
    with pytest.raises(RuntimeError, match="boom on call 3"):
        ki.reinitialize(model, bias=init, seed=0)
    assert init.calls == 3  # two biases were assigned before the failure
    for x, v in zip(before, model.weights):
        np.testing.assert_array_equal(x, to_numpy(v))
    with pytest.raises(ValueError, match="NaN or inf"):
        ki.reinitialize(model, recurrent=NaNs(), seed=0)
    for x, v in zip(before, model.weights):
        np.testing.assert_array_equal(x, to_numpy(v))


class OwnKernel(L.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3), name="kernel")

    def call(self, x):
        return keras.ops.matmul(x, self.kernel)


def test_unsupported_weights_are_listed_and_left_alone():
    x = keras.Input((3, 4))
    h = L.PReLU(name="prelu")(x)
    h = ki.layers.ResidualScale(init=0.3, name="gate")(h)
    h = L.Dense(4, lora_rank=2, name="lora")(h)
    h = OwnKernel(name="own")(h)
    model = keras.Model(x, h)
    seq = keras.Input((2, 3, 4))
    conv_lstm = keras.Model(seq, L.ConvLSTM1D(2, 2, name="clstm")(seq))
    for m in (model, conv_lstm):
        before = {v.path: to_numpy(v).copy() for v in m.weights}
        report = ki.reinitialize(m, seed=0)
        skipped = {path for path, _ in report.skipped}
        touched = {r.layer for r in report.rows}
        assert skipped | touched == set(before) and not skipped & touched
        for v in m.weights:
            if v.path in skipped:
                np.testing.assert_array_equal(before[v.path], to_numpy(v))
    report = ki.reinitialize(model, seed=0)
    skipped = sorted("/".join(path.split("/")[-2:]) for path, _ in report.skipped)
    # A LoRA Dense: `layer.kernel` is the merged tensor, so no weight matches a rule.
    assert skipped == ["gate/alpha", "lora/kernel", "lora/lora_kernel_a", "lora/lora_kernel_b", "own/kernel", "prelu/alpha"]
    assert any("OwnKernel" in reason and "no fan rule" in reason for _, reason in report.skipped)
    assert len(ki.reinitialize(conv_lstm, seed=0).skipped) == 3


def test_layers_restricts_by_name_object_and_sublayer():
    model = mixed_model()
    before = {v.path: to_numpy(v).copy() for v in model.weights}
    report = ki.reinitialize(model, seed=1, layers=["d2", model.get_layer("d3")])
    assert {r.layer.split("/")[-2] for r in report.rows} == {"d2", "d3"}
    report = ki.reinitialize(model, seed=1, layers="query")  # MHA's inner EinsumDense
    assert [r.layer.split("/")[-2:] for r in report.rows] == [["query", "kernel"], ["query", "bias"]]
    np.testing.assert_array_equal(before[model.get_layer("d1").kernel.path], to_numpy(model.get_layer("d1").kernel))
    report = ki.reinitialize(model, seed=1, layers=[model.get_layer("bi")])
    assert len(report.rows) == 6  # two cells x (kernel, recurrent, bias)
    with pytest.raises(ValueError, match=r"not found: \['zzz'\]"):
        ki.reinitialize(model, layers=["zzz"])
    with pytest.raises(ValueError, match="not found"):
        ki.reinitialize(model, layers=[L.Dense(2, name="stranger")])
    with pytest.raises(TypeError, match="Argument `layers`"):
        ki.reinitialize(model, layers=[3])


def test_subclassed_model():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn = L.GRU(4)
            self.out = L.Dense(2)

        def call(self, x):
            return self.out(self.rnn(x))

    net = Net()
    net(np.zeros((2, 3, 5), "float32"))
    report = ki.reinitialize(net, seed=0)
    assert len(report.rows) == len(net.weights) and not report.skipped
    for block in gate_blocks(net.rnn.cell):
        np.testing.assert_allclose(block.T @ block, np.eye(4), atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_float16", "bfloat16"])
def test_dtype_policies(policy):
    keras.config.set_dtype_policy(policy)
    model = model_of(L.Conv2DTranspose(16, 3, name="tr"), (3, 3, 4))
    kernel = model.get_layer("tr").kernel
    dtype = kernel.dtype
    ki.reinitialize(model, seed=0)
    assert kernel.dtype == dtype
    assert_moments(kernel, he(3 * 3 * 4))


def test_bad_arguments():
    model = keras.Sequential([keras.Input((2,)), L.Dense(2)])
    with pytest.raises(ValueError, match="Argument `kernel`"):
        ki.reinitialize(model, kernel="not_an_initializer")
    with pytest.raises(ValueError, match="Argument `recurrent`"):
        ki.reinitialize(model, recurrent="nope")
    with pytest.raises(TypeError, match="seed"):
        ki.reinitialize(model, seed=1.5)
    with pytest.raises(TypeError, match="keras.Model"):
        ki.reinitialize(L.Dense(2))
    with pytest.raises(ValueError, match="not built"):
        ki.reinitialize(keras.Sequential([L.Dense(2)]))
