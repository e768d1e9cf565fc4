"""ICNR and Scaled: sub-pixel structure after the shuffle, exact scaling, true
einsum fans inside EinsumDense/MultiHeadAttention, nested config, saving."""

import math

import keras
import numpy as np
import pytest

import keras_inits as ki
from tests.helpers import (
    assert_config_roundtrip,
    assert_moments,
    dtype_sweep,
    int_dtype_sweep,
    to_numpy,
)

RNG = np.random.default_rng(0)


def subpixel_spread(y, scale):
    """Largest difference between the scale x scale sub-pixels of any block of
    a (batch, H*scale, W*scale, C) image: 0 means nearest-neighbour upsampling."""
    b, hs, ws, c = y.shape
    blocks = y.reshape(b, hs // scale, scale, ws // scale, scale, c)
    return np.ptp(blocks, axis=(2, 4)).max()


# --- ICNR ------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3])
def test_icnr_conv_then_depth_to_space_has_identical_subpixels(scale):
    c = 3
    layer = keras.layers.Conv2D(
        c * scale**2, 3, padding="same", kernel_initializer=ki.ICNR("kaiming_normal", scale=scale, seed=0)
    )
    x = RNG.standard_normal((2, 5, 5, 4)).astype("float32")
    y = to_numpy(keras.ops.depth_to_space(layer(x), scale))  # (2, 5s, 5s, c)
    assert subpixel_spread(y, scale) <= 1e-6
    # The control: the same conv with a plain kernel has a checkerboard.
    plain = keras.layers.Conv2D(c * scale**2, 3, padding="same", kernel_initializer="he_normal")
    assert subpixel_spread(to_numpy(keras.ops.depth_to_space(plain(x), scale)), scale) > 0.1


@pytest.mark.tf_only
def test_icnr_matches_tf_depth_to_space_channel_order():
    import tensorflow as tf

    w = to_numpy(ki.ICNR(scale=3, seed=1)((1, 1, 2, 2 * 9)))
    x = RNG.standard_normal((1, 2, 2, 2)).astype("float32")
    y = tf.nn.depth_to_space(np.einsum("bhwi,io->bhwo", x, w[0, 0]), 3).numpy()
    assert subpixel_spread(y, 3) <= 1e-6


def test_icnr_crd_order_matches_torch_pixel_shuffle():
    torch = pytest.importorskip("torch")
    scale, c = 2, 3
    x = RNG.standard_normal((1, 4, 4, 5)).astype("float32")
    for order, expect_identical in [("crd", True), ("dcr", False)]:
        w = to_numpy(ki.ICNR(scale=scale, seed=2, order=order)((1, 1, 5, c * scale**2)))
        conv = np.einsum("bhwi,io->bohw", x, w[0, 0])  # NCHW for torch
        y = torch.nn.functional.pixel_shuffle(torch.from_numpy(conv), scale).numpy()
        spread = subpixel_spread(y.transpose(0, 2, 3, 1), scale)
        assert (spread <= 1e-6) == expect_identical, (order, spread)


@pytest.mark.parametrize("shape,blocks", [((3, 4, 2 * 6), 2), ((3, 3, 3, 4, 8 * 2), 8)])
def test_icnr_1d_and_3d_repeat_scale_to_the_spatial_rank(shape, blocks):
    w = to_numpy(ki.ICNR(scale=2, seed=3)(shape))
    sub = shape[-1] // blocks
    for b in range(blocks):
        np.testing.assert_array_equal(w[..., b * sub : (b + 1) * sub], w[..., :sub])


def test_icnr_sub_kernel_has_base_moments_with_sub_kernel_fans():
    w = to_numpy(ki.ICNR("kaiming_normal", scale=2, seed=2)((3, 3, 64, 4 * 32)))
    assert_moments(w[..., :32], math.sqrt(2.0 / (9 * 64)))


def test_icnr_seed_replaces_base_seed():
    a = to_numpy(ki.ICNR(ki.KaimingNormal(seed=1), seed=5)((3, 3, 2, 8)))
    b = to_numpy(ki.ICNR(ki.KaimingNormal(seed=2), seed=5)((3, 3, 2, 8)))
    np.testing.assert_array_equal(a, b)
    c = to_numpy(ki.ICNR(ki.KaimingNormal(seed=1))((3, 3, 2, 8)))
    np.testing.assert_array_equal(c[..., :2], to_numpy(ki.KaimingNormal(seed=1)((3, 3, 2, 2))))


def test_icnr_errors():
    with pytest.raises(ValueError, match="scale"):
        ki.ICNR(scale=0)
    with pytest.raises(ValueError, match="multiple of scale"):
        ki.ICNR(scale=2)((3, 3, 4, 6))
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        ki.ICNR(scale=2)((4, 8))
    with pytest.raises(ValueError, match="base"):
        ki.ICNR(base="no_such_initializer")
    with pytest.raises(ValueError, match="Received: order=DCR"):
        ki.ICNR(order="DCR")
    with pytest.raises(ValueError, match="seed"):
        ki.ICNR(seed="1")


# --- Scaled ----------------------------------------------------------------


def test_scaled_same_seed_factor_one_and_s_differ_exactly_by_s():
    one = to_numpy(ki.Scaled(ki.KaimingNormal(seed=9), 1.0)((32, 16)))
    np.testing.assert_array_equal(to_numpy(ki.KaimingNormal(seed=9)((32, 16))), one)
    np.testing.assert_array_equal(to_numpy(ki.Scaled(ki.KaimingNormal(seed=9), 0.25)((32, 16))), 0.25 * one)
    np.testing.assert_allclose(
        to_numpy(ki.Scaled(ki.KaimingNormal(seed=9), -2.5)((32, 16))), -2.5 * one, rtol=1e-6
    )


def test_scaled_moments():
    assert_moments(ki.Scaled(ki.XavierNormal(seed=1), 3.0)((256, 128)), 3.0 * math.sqrt(2 / 384))


def test_scaled_accepts_string_dict_instance():
    bases = [
        "he_normal",
        {"class_name": "RandomNormal", "config": {"stddev": 0.3, "seed": 1}},
        keras.initializers.Ones(),
    ]
    for base in bases:
        assert tuple(ki.Scaled(base, 2.0)((4, 4)).shape) == (4, 4)
    np.testing.assert_array_equal(to_numpy(ki.Scaled("ones", 3.0)((2, 2))), 3.0)


@pytest.mark.parametrize(
    "base,fan",
    [
        (lambda: "kaiming_normal", "in"),
        (lambda: ki.KaimingNormal(seed=3), "in"),
        (lambda: keras.initializers.HeNormal(seed=3), "in"),
        (lambda: ki.XavierUniform(gain=2.0, seed=3), "avg"),
    ],
)
def test_scaled_gets_true_einsum_fans(base, fan):
    # Kernel (c, d, e) = (128, 8, 32): true fan_in 128, fan_out 256; the conv
    # convention would give fan_in 8 * 128.
    layer = keras.layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 8, 32), kernel_initializer=ki.Scaled(base(), 0.5)
    )
    layer.build((None, 4, 128))
    init = layer.kernel_initializer.base
    gain = getattr(init, "gain", 1.0)
    if fan == "in":
        std = math.sqrt(2.0 / 128)
    else:
        std = gain * math.sqrt(2.0 / (128 + 256))
    dist = "normal" if "Normal" in type(init).__name__ else "uniform"
    if isinstance(init, keras.initializers.HeNormal):
        dist = "truncated_normal"
    assert_moments(layer.kernel, 0.5 * std, dist=dist)


def test_scaled_einsum_clone_draws_the_originals_values():
    # EinsumDense clones the initializer with its concrete seed and the true
    # axes; the clone must draw what the base with those axes draws.
    for init in [ki.Scaled(ki.KaimingNormal(seed=11), 0.5), ki.Scaled("kaiming_normal", 0.5)]:
        layer = keras.layers.EinsumDense("ab,bcd->acd", output_shape=(4, 8), kernel_initializer=init)
        layer.build((None, 16))
        expected = ki.KaimingNormal(seed=init.seed, input_axes=[0], output_axes=[1, 2])((16, 4, 8))
        np.testing.assert_array_equal(to_numpy(layer.kernel), 0.5 * to_numpy(expected))


def test_scaled_in_multi_head_attention():
    mha = keras.layers.MultiHeadAttention(8, 32, kernel_initializer=ki.Scaled("xavier_normal", 2.0))
    x = keras.Input((4, 256))
    mha(x, x)
    # query (256, 8, 32): fans (256, 256); output (8, 32, 256): fans (256, 256).
    for dense in (mha.query_dense, mha.output_dense):
        assert_moments(dense.kernel, 2.0 * math.sqrt(2.0 / (256 + 256)))
    # Unseeded base: q, k and v get different values (each clone draws a seed).
    q, k = to_numpy(mha.query_dense.kernel), to_numpy(mha.key_dense.kernel)
    assert not np.array_equal(q, k)


def test_scaled_nested_serialization():
    inner = ki.Scaled(ki.XavierUniform(gain=2.0, seed=1), 0.5)
    outer = ki.Scaled(inner, 3.0)
    clone = assert_config_roundtrip(outer, (8, 8))
    assert isinstance(clone.base, ki.Scaled) and isinstance(clone.base.base, ki.XavierUniform)
    np.testing.assert_allclose(
        to_numpy(outer((8, 8))), 1.5 * to_numpy(ki.XavierUniform(gain=2.0, seed=1)((8, 8))), rtol=1e-6
    )


def test_scaled_seed_replaces_base_seed():
    a = to_numpy(ki.Scaled(ki.KaimingNormal(seed=1), 2.0, seed=7)((8, 8)))
    np.testing.assert_array_equal(a, 2.0 * to_numpy(ki.KaimingNormal(seed=7)((8, 8))))


def test_scaled_makes_keras_orthogonal_work_in_bfloat16():
    # Keras' Orthogonal runs QR in the requested dtype, which fails in bfloat16.
    values = ki.Scaled(keras.initializers.Orthogonal(seed=0), 1.0)((8, 8), dtype="bfloat16")
    q = to_numpy(values).astype("float64")
    np.testing.assert_allclose(q @ q.T, np.eye(8), atol=3e-2)


def test_scaled_errors():
    with pytest.raises(TypeError, match="factor"):
        ki.Scaled("ones", "2")
    with pytest.raises(ValueError, match="factor"):
        ki.Scaled("ones", float("nan"))
    with pytest.raises(ValueError, match="base"):
        ki.Scaled("no_such_initializer", 2.0)
    with pytest.raises(TypeError, match="input_axes"):
        ki.Scaled("ones", 2.0, input_axes=0, output_axes=[1])
    with pytest.raises(ValueError, match="seed"):
        ki.Scaled("ones", 2.0, seed=1.5)


# --- shared sweeps ---------------------------------------------------------

CASES = {
    "ICNR": (lambda: ki.ICNR(scale=2, seed=3), (3, 3, 4, 8)),
    "ICNR-crd": (lambda: ki.ICNR(ki.XavierNormal(seed=1), scale=2, order="crd"), (3, 3, 4, 8)),
    "Scaled": (lambda: ki.Scaled(ki.KaimingNormal(seed=4), 0.5), (64, 32)),
    "Scaled-seed": (lambda: ki.Scaled("glorot_uniform", 2, seed=4), (64, 32)),
}


def check_icnr(order, std):
    """Sub-kernel (3, 3, 4, 2) repeated 4 times (dcr: tiled; crd: each channel
    4 times in a row), exactly in every dtype; the sub-kernel has the base's
    moments with the sub-kernel's fans."""

    def check(x, tol):
        if order == "dcr":
            sub = x[..., :2]
            np.testing.assert_array_equal(x, np.tile(sub, (1, 1, 1, 4)))
        else:
            sub = x[..., ::4]
            np.testing.assert_array_equal(x, np.repeat(sub, 4, axis=-1))
        assert_moments(sub, std, rounding=tol)

    return check


def check_scaled_glorot(x, tol):
    # 2 * Keras' GlorotUniform on (64, 32): U(+-2 sqrt(6/96)), std 2 sqrt(2/96)
    assert np.abs(x).max() <= 2 * math.sqrt(6 / 96) * (1 + tol)
    assert_moments(x, 2 * math.sqrt(2 / 96), dist="uniform", rounding=tol)


CHECKS = {
    "ICNR": check_icnr("dcr", math.sqrt(2 / 36)),  # kaiming_normal, fan_in 3*3*4
    "ICNR-crd": check_icnr("crd", math.sqrt(2 / (36 + 18))),  # xavier, fans (36, 18)
    "Scaled": lambda x, tol: assert_moments(x, 0.5 * math.sqrt(2 / 64), rounding=tol),
    "Scaled-seed": check_scaled_glorot,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_roundtrip(name):
    make, shape = CASES[name]
    assert_config_roundtrip(make(), shape)


def test_config_keeps_arguments_as_given():
    config = ki.Scaled("ones", 2, seed=4).get_config()
    assert config["factor"] == 2 and config["seed"] == 4
    assert config["base"]["class_name"] == "Ones"
    config = ki.ICNR(scale=3, seed=1, order="crd").get_config()
    assert (config["scale"], config["seed"], config["order"]) == (3, 1, "crd")


test_dtypes = dtype_sweep(CASES, CHECKS)
test_int_dtype_refused = int_dtype_sweep(CASES)


def test_string_aliases_in_layers():
    layer = keras.layers.Conv2D(16, 3, kernel_initializer="icnr")
    layer.build((None, 6, 6, 4))
    assert isinstance(layer.kernel_initializer, ki.ICNR)
    scaled = {"class_name": "scaled", "config": {"base": "he_normal", "factor": 0.5}}
    dense = keras.layers.Dense(8, kernel_initializer=scaled)
    dense.build((None, 4))
    assert isinstance(dense.kernel_initializer, ki.Scaled)


def test_save_and_load(tmp_path):
    inp = keras.Input((4, 16))
    att = keras.layers.MultiHeadAttention(2, 8, kernel_initializer=ki.Scaled("xavier_uniform", 2.0))(inp, inp)
    img = keras.layers.Reshape((8, 8, 1))(keras.layers.Flatten()(att))
    up = keras.layers.Conv2D(4, 3, padding="same", kernel_initializer=ki.ICNR(scale=2, seed=6))(img)
    model = keras.Model(inp, up)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = RNG.standard_normal((2, 4, 16)).astype("float32")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-5, atol=1e-6)
    for old, new in zip(model.layers, loaded.layers):
        if hasattr(old, "kernel_initializer"):
            assert keras.initializers.serialize(new.kernel_initializer) == keras.initializers.serialize(
                old.kernel_initializer
            )
