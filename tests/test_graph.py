"""graph.walk evaluates every kind of graph exactly like model(x)."""

import keras
import numpy as np
import pytest

from keras_inits import graph
from tests.helpers import to_numpy

RNG = np.random.default_rng(0)


def same_as_call(model, x):
    visited = []

    def visit(layer, call):
        visited.append(layer)
        return call()

    out = graph.walk(model, x, visit)
    expected = model(x)
    for a, b in zip(keras.tree.flatten(out), keras.tree.flatten(expected)):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)
    return visited


def test_sequential_and_nested_functional():
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, keras.layers.Dense(8, name="inner")(inner_in), name="block")
    inp = keras.Input((8,))
    model = keras.Model(inp, keras.layers.Dense(3, name="top")(inner(keras.layers.Dense(8, name="a")(inp))))
    visited = same_as_call(model, RNG.standard_normal((4, 8)).astype("float32"))
    assert [layer.name for layer in visited] == ["a", "inner", "top"]
    assert [layer.name for layer in graph.all_layers(model)] == ["a", "inner", "top"]
    seq = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    assert len(same_as_call(seq, RNG.standard_normal((4, 8)).astype("float32"))) == 2


def test_multi_input_multi_output_and_ops_nodes():
    a, b = keras.Input((4,), name="a"), keras.Input((6,), name="b")
    h = keras.layers.Concatenate()([keras.layers.Dense(5)(a), b])
    h = keras.ops.tanh(h) * 2.0  # keras.ops nodes, not layers: evaluated, not visited
    model = keras.Model({"a": a, "b": b}, [keras.layers.Dense(2)(h), keras.layers.Dense(3)(h)])
    x = {"a": RNG.standard_normal((3, 4)).astype("float32"), "b": RNG.standard_normal((3, 6)).astype("float32")}
    visited = same_as_call(model, x)
    assert all(isinstance(layer, keras.layers.Layer) for layer in visited)


def test_attention_with_mask_kwarg():
    q = keras.Input((5, 8))
    mask = keras.Input((5, 5), dtype="bool")
    out = keras.layers.MultiHeadAttention(2, 4)(q, q, attention_mask=mask)
    model = keras.Model([q, mask], out)
    x = RNG.standard_normal((2, 5, 8)).astype("float32")
    m = np.tril(np.ones((2, 5, 5), bool))
    same_as_call(model, [x, m])


def test_layer_outputs_subclassed_fallback():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = keras.layers.Dense(4)
            self.b = keras.layers.Dense(2)

        def call(self, x):
            return self.b(self.a(x))

    net = Net()
    x = RNG.standard_normal((3, 5)).astype("float32")
    net(x)
    assert not graph.is_graph_model(net)
    outs = graph.layer_outputs(net, x)
    assert [layer for layer, _ in outs] == [net.a, net.b]
    np.testing.assert_allclose(to_numpy(outs[-1][1]), to_numpy(net(x)), rtol=1e-6)
    assert "call" not in vars(net.a)  # the capture was undone


def test_nested_sequential_shared_layer_and_single_output_list():
    block = keras.Sequential([keras.Input((6,)), keras.layers.Dense(6, name="s1"), keras.layers.Dense(6, name="s2")], name="seq")
    shared = keras.layers.Dense(6, name="shared")
    inp = keras.Input((6,))
    h = shared(block(inp))
    h = shared(h)  # the same layer at two nodes: visited at each
    model = keras.Model(inp, [h])  # outputs given as a one-element list
    x = RNG.standard_normal((4, 6)).astype("float32")
    visited = same_as_call(model, x)
    assert [layer.name for layer in visited] == ["s1", "s2", "shared", "shared"]
    assert ops_shape(graph.walk(model, x)) == ops_shape(model(x)) == (4, 6)


def ops_shape(x):
    return tuple(x.shape)


def test_visitor_output_is_what_the_next_layer_sees():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, name="a"), keras.layers.Dense(2, name="b")])
    x = RNG.standard_normal((5, 3)).astype("float32")

    def double_a(layer, call):
        return call() * 2.0 if layer.name == "a" else call()

    out = to_numpy(graph.walk(model, x, double_a))
    a, b = model.get_layer("a"), model.get_layer("b")
    ha = 2.0 * (x @ to_numpy(a.kernel) + to_numpy(a.bias))
    np.testing.assert_allclose(out, ha @ to_numpy(b.kernel) + to_numpy(b.bias), rtol=1e-5, atol=1e-6)


def test_inference_mode_like_model_call():
    inp = keras.Input((8,))
    h = keras.layers.Dropout(0.5)(keras.layers.Dense(8)(inp))
    model = keras.Model(inp, keras.layers.BatchNormalization()(h))
    before = [to_numpy(v).copy() for v in model.non_trainable_weights]
    same_as_call(model, RNG.standard_normal((16, 8)).astype("float32"))
    for a, v in zip(before, model.non_trainable_weights):  # moving stats untouched
        np.testing.assert_array_equal(a, to_numpy(v))


def test_walk_refuses_a_model_without_graph():
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="no layer graph"):
        graph.walk(Net(), np.zeros((1, 2), "float32"))


def test_capture_outputs_nested_and_duplicates_restore_the_layer():
    layer = keras.layers.Dense(2)
    x = RNG.standard_normal((3, 4)).astype("float32")
    layer(x)
    with graph.capture_outputs([layer, layer]) as outer:
        with graph.capture_outputs([layer]) as inner:
            layer(x)
        assert "call" in vars(layer)  # the outer capture is still active
        layer(x)
    assert "call" not in vars(layer)
    assert len(inner) == 1 and len(outer) == 2  # duplicates wrapped once
    layer(x)
    assert len(outer) == 2
