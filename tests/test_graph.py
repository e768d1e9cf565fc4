"""graph.walk evaluates every kind of graph exactly like model(x)."""

import keras
import numpy as np

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
