"""Dirac, ZerO and Sparse: exact values against independent references, moments,
config, dtypes, string aliases and saving."""

import math
from fractions import Fraction

import keras
import numpy as np
import pytest
from scipy.linalg import hadamard

import keras_inits as ki
from tests.helpers import (
    assert_config_roundtrip,
    assert_moments,
    dtype_sweep,
    int_dtype_sweep,
    to_numpy,
)

RNG = np.random.default_rng(0)


# --- Dirac -----------------------------------------------------------------


def torch_dirac_reference(torch_shape, groups):
    """torch.nn.init.dirac_'s loop, written out in numpy, torch layout
    (out, in/groups, k...), then transposed to Keras' (k..., in/groups, out)."""
    w = np.zeros(torch_shape)
    out_per_group = torch_shape[0] // groups
    centre = tuple(k // 2 for k in torch_shape[2:])
    for g in range(groups):
        for d in range(min(out_per_group, torch_shape[1])):
            w[(g * out_per_group + d, d, *centre)] = 1
    rank = len(torch_shape)
    return w.transpose(*range(2, rank), 1, 0)


def keras_shape(torch_shape):
    return (*torch_shape[2:], torch_shape[1], torch_shape[0])


DIRAC_CASES = [
    ((8, 8, 3), 1),
    ((8, 8, 3, 3), 1),
    ((6, 4, 3, 3), 1),  # more outputs than inputs
    ((4, 6, 3, 3), 1),  # fewer outputs than inputs
    ((8, 2, 4, 4), 2),  # even kernel, groups
    ((12, 3, 5, 5), 3),
    ((4, 4, 3, 3, 3), 2),
]


@pytest.mark.parametrize("torch_shape,groups", DIRAC_CASES)
def test_dirac_matches_torch_loop(torch_shape, groups):
    w = to_numpy(ki.Dirac(groups=groups)(keras_shape(torch_shape)))
    np.testing.assert_array_equal(w, torch_dirac_reference(torch_shape, groups))


@pytest.mark.parametrize("torch_shape,groups", DIRAC_CASES)
def test_dirac_matches_real_torch(torch_shape, groups):
    torch = pytest.importorskip("torch")
    w = torch.empty(*torch_shape)
    torch.nn.init.dirac_(w, groups=groups)
    rank = len(torch_shape)
    expected = w.numpy().transpose(*range(2, rank), 1, 0)
    np.testing.assert_array_equal(to_numpy(ki.Dirac(groups=groups)(keras_shape(torch_shape))), expected)


@pytest.mark.parametrize(
    "layer,x_shape",
    [
        (lambda: keras.layers.Conv1D(5, 3, padding="same", use_bias=False, kernel_initializer="dirac"), (2, 7, 5)),
        (lambda: keras.layers.Conv2D(5, 5, padding="same", use_bias=False, kernel_initializer="dirac"), (2, 7, 7, 5)),
        (lambda: keras.layers.Conv3D(3, 3, padding="same", use_bias=False, kernel_initializer="dirac"), (1, 4, 4, 4, 3)),
        (
            lambda: keras.layers.Conv2D(
                4, 3, padding="same", groups=2, use_bias=False, kernel_initializer=ki.Dirac(groups=2)
            ),
            (2, 5, 5, 4),
        ),
    ],
)
def test_dirac_conv_is_exact_identity(layer, x_shape):
    x = RNG.standard_normal(x_shape).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer()(x)), x)


def test_dirac_even_kernel_shifts_by_one():
    # 'same' pads (k - 1) // 2 = 1 before the input; the centre tap k // 2 = 2
    # then reads x[i + 1] for output i (the documented caveat).
    layer = keras.layers.Conv1D(1, 4, padding="same", use_bias=False, kernel_initializer="dirac")
    x = np.arange(1.0, 7.0, dtype="float32").reshape(1, 6, 1)
    np.testing.assert_array_equal(to_numpy(layer(x))[0, :, 0], [2, 3, 4, 5, 6, 0])


def test_dirac_errors():
    with pytest.raises(ValueError, match="Received: groups=0"):
        ki.Dirac(groups=0)
    with pytest.raises(ValueError, match="groups"):
        ki.Dirac(groups=2.0)
    with pytest.raises(ValueError, match="divisible by groups"):
        ki.Dirac(groups=3)((3, 3, 2, 8))
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        ki.Dirac()((4, 4))


# --- ZerO ------------------------------------------------------------------


def zero_reference(n_in, n_out):
    """The paper's (out, in) matrix from scipy's Hadamard, transposed to Keras."""
    if n_out <= n_in:
        return np.eye(n_out, n_in).T
    c = math.ceil(math.log2(n_out))
    p = 2**c
    paper = np.eye(n_out, p) @ hadamard(p) @ np.eye(p, n_in) / 2 ** (c / 2)
    return paper.T


@pytest.mark.parametrize(
    "n_in,n_out", [(8, 8), (10, 6), (4, 8), (3, 10), (1, 2), (5, 9), (16, 100)]
)
def test_zero_dense_matches_reference(n_in, n_out):
    np.testing.assert_allclose(
        to_numpy(ki.ZerO()((n_in, n_out))), zero_reference(n_in, n_out), atol=1e-7
    )


def test_zero_expanding_to_a_power_of_two_is_an_isometry():
    w = to_numpy(ki.ZerO()((4, 8))).astype("float64")  # p = m = 8
    np.testing.assert_allclose(w @ w.T, np.eye(4), atol=1e-6)


def coincident_groups(w):
    """The output units (kernel columns) grouped by exact equality, as sets."""
    groups = {}
    for unit in range(w.shape[1]):
        groups.setdefault(w[:, unit].tobytes(), set()).add(unit)
    return sorted(groups.values(), key=min)


@pytest.mark.parametrize(
    "n_in,n_out,groups",
    [
        # p = 16, q = 4: units agree mod 4 (i and i + p/2 = i + 8 among them)
        (3, 10, [{0, 4, 8}, {1, 5, 9}, {2, 6}, {3, 7}]),
        (5, 12, [{0, 8}, {1, 9}, {2, 10}, {3, 11}, {4}, {5}, {6}, {7}]),  # q = 8
        (9, 10, [{u} for u in range(10)]),  # in > p/2 = 8: q = 16 > out, none coincide
    ],
)
def test_zero_coincident_units(n_in, n_out, groups):
    """README: with Sylvester's H_p, output units i and i + p/2 coincide when
    in <= p/2. Sylvester's entries are H[i, j] = (-1)^popcount(i & j), so two
    rows agree on the first `in` columns exactly when they agree on bits
    below q = 2^ceil(log2 in): unit i and i' coincide iff i = i' mod q. The
    groups above are written out from that rule."""
    assert coincident_groups(to_numpy(ki.ZerO()((n_in, n_out)))) == groups


@pytest.mark.parametrize("shape", [(3, 4, 8), (3, 3, 4, 12), (3, 3, 6, 4), (1, 3, 3, 2, 5)])
def test_zero_conv_centre_tap(shape):
    w = to_numpy(ki.ZerO()(shape))
    centre = tuple(k // 2 for k in shape[:-2])
    np.testing.assert_allclose(w[centre], zero_reference(*shape[-2:]), atol=1e-7)
    w[centre] = 0
    assert np.count_nonzero(w) == 0


def test_zero_square_dense_layer_is_identity():
    layer = keras.layers.Dense(6, use_bias=False, kernel_initializer="zer_o")
    x = RNG.standard_normal((3, 6)).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer(x)), x)


def test_zero_errors():
    with pytest.raises(ValueError, match="rank >= 2"):
        ki.ZerO()((5,))
    with pytest.raises(ValueError, match="rank 3, 4 or 5"):
        ki.ZerO()((1, 1, 1, 1, 2, 2))


# --- Sparse ----------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,sparsity",
    [((50, 40), 0.1), ((10, 30), 0.3), ((3, 3, 8, 16), 0.5), ((7, 5), 0.0), ((9, 4), 0.99)],
)
def test_sparse_exact_zero_count_per_unit(shape, sparsity):
    w = to_numpy(ki.Sparse(sparsity=sparsity, std=0.2, seed=0)(shape)).reshape(-1, shape[-1])
    fan_in = w.shape[0]
    # Exact rational arithmetic: 0.3 * 10 is 3 zeros, not 4.
    expected = math.ceil(Fraction(str(sparsity)) * fan_in)
    np.testing.assert_array_equal((w == 0).sum(axis=0), expected)


def test_sparse_nonzero_moments():
    w = to_numpy(ki.Sparse(sparsity=0.25, std=0.3, seed=1)((400, 100)))
    assert_moments(w[w != 0], 0.3)


def test_sparse_zero_positions_are_uniform():
    # Each unit zeroes 5 of its 20 inputs at random, so each input row is zero
    # in Binomial(2000, 1/4) units: 500 +- 19.4.
    w = to_numpy(ki.Sparse(sparsity=0.25, seed=2)((20, 2000)))
    per_row = (w == 0).sum(axis=1)
    assert np.all(np.abs(per_row - 500) <= 5 * math.sqrt(2000 * 0.25 * 0.75)), per_row


def test_sparse_seeds():
    a = to_numpy(ki.Sparse(0.5, seed=3)((8, 8)))
    np.testing.assert_array_equal(a, to_numpy(ki.Sparse(0.5, seed=3)((8, 8))))
    assert not np.array_equal(a, to_numpy(ki.Sparse(0.5, seed=4)((8, 8))))
    stateful = ki.Sparse(0.5, seed=keras.random.SeedGenerator(0))
    assert not np.array_equal(to_numpy(stateful((8, 8))), to_numpy(stateful((8, 8))))


def test_sparse_errors():
    with pytest.raises(ValueError, match="Received: sparsity=1.0"):
        ki.Sparse(sparsity=1.0)
    with pytest.raises(ValueError, match="sparsity"):
        ki.Sparse(sparsity=-0.1)
    with pytest.raises(ValueError, match="std"):
        ki.Sparse(std=0.0)
    with pytest.raises(TypeError, match="std"):
        ki.Sparse(std="0.1")
    with pytest.raises(ValueError, match="rank >= 2"):
        ki.Sparse()((5,))


# --- shared sweeps ---------------------------------------------------------

CASES = {
    "Dirac": (lambda: ki.Dirac(groups=2), (3, 3, 4, 8)),
    "ZerO": (lambda: ki.ZerO(), (6, 10)),
    "ZerO-conv": (lambda: ki.ZerO(), (3, 3, 4, 8)),
    "Sparse": (lambda: ki.Sparse(sparsity=0.3, std=0.5, seed=2), (20, 6)),
}


def check_zero_conv(x, tol):
    np.testing.assert_allclose(x[1, 1], zero_reference(4, 8), rtol=tol)
    x = x.copy()
    x[1, 1] = 0
    assert not np.any(x)


def check_sparse(x, tol):
    # ceil(0.3 * 20) = 6 zeros per unit; N(0, 0.5^2) values never round to 0.
    np.testing.assert_array_equal((x == 0).sum(axis=0), 6)
    assert_moments(x[x != 0], 0.5, rounding=tol)


CHECKS = {
    # torch layout (out, in/groups, k, k) = (8, 4, 3, 3): exact 0/1 in every dtype
    "Dirac": lambda x, tol: np.testing.assert_array_equal(x, torch_dirac_reference((8, 4, 3, 3), 2)),
    "ZerO": lambda x, tol: np.testing.assert_allclose(x, zero_reference(6, 10), rtol=tol),
    "ZerO-conv": check_zero_conv,
    "Sparse": check_sparse,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_roundtrip(name):
    make, shape = CASES[name]
    assert_config_roundtrip(make(), shape)


def test_config_keeps_arguments_as_given():
    assert ki.Sparse(sparsity=0.3, std=1, seed=2).get_config() == {"sparsity": 0.3, "std": 1, "seed": 2}
    assert ki.Dirac(groups=2).get_config() == {"groups": 2}
    assert ki.ZerO().get_config() == {}


test_dtypes = dtype_sweep(CASES, CHECKS)
test_int_dtype_refused = int_dtype_sweep(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_zero_size_shapes(name):
    make, shape = CASES[name]
    shape = (*shape[:-2], 0, shape[-1])
    assert tuple(make()(shape).shape) == shape


@pytest.mark.parametrize(
    "make,input_shape",
    [
        (lambda: keras.layers.Conv2D(4, 3, kernel_initializer="dirac"), (None, 6, 6, 4)),
        (lambda: keras.layers.Conv2D(4, 3, kernel_initializer="Dirac"), (None, 6, 6, 4)),
        (lambda: keras.layers.Dense(8, kernel_initializer="zer_o"), (None, 4)),
        (lambda: keras.layers.Dense(8, kernel_initializer="sparse"), (None, 4)),
    ],
)
def test_string_aliases_in_layers(make, input_shape):
    layer = make()
    layer.build(input_shape)
    assert type(layer.kernel_initializer).__name__ in ("Dirac", "ZerO", "Sparse")


def test_save_and_load(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((6, 6, 4)),
            keras.layers.Conv2D(4, 3, padding="same", kernel_initializer=ki.Dirac(groups=2), groups=2),
            keras.layers.Conv2D(8, 3, padding="same", kernel_initializer="zer_o"),
            keras.layers.Flatten(),
            keras.layers.Dense(8, kernel_initializer=ki.Sparse(0.25, std=0.1, seed=7)),
        ]
    )
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    x = RNG.standard_normal((2, 6, 6, 4)).astype("float32")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(model(x)), rtol=1e-6, atol=1e-6)
    for old, new in zip(model.layers, loaded.layers):
        if hasattr(old, "kernel_initializer"):
            assert new.kernel_initializer.get_config() == old.kernel_initializer.get_config()
    np.testing.assert_array_equal(
        to_numpy(loaded.layers[-1].kernel_initializer((16, 8))),
        to_numpy(ki.Sparse(0.25, std=0.1, seed=7)((16, 8))),
    )
