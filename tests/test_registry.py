import keras
import pytest
from keras.src.initializers import ALL_OBJECTS_DICT

import keras_inits as ki
from keras_inits import registry

PINNED_ALIASES = {
    "KaimingNormal": "kaiming_normal",
    "KaimingUniform": "kaiming_uniform",
    "XavierNormal": "xavier_normal",
    "XavierUniform": "xavier_uniform",
    "DeltaOrthogonal": "delta_orthogonal",
    "Dirac": "dirac",
    "ZerO": "zer_o",
    "Sparse": "sparse",
    "ICNR": "icnr",
    "Scaled": "scaled",
    "PriorBias": "prior_bias",
    "ChronoBias": "chrono_bias",
}


def test_every_pinned_initializer_is_listed_with_its_alias():
    listed = {e.name: e.alias for e in ki.list_initializers()}
    assert listed == PINNED_ALIASES


def test_catalogue_rows_are_complete():
    for entry in ki.list_initializers(None):
        assert entry.formula and entry.reference, entry


def test_no_alias_shadows_a_keras_builtin():
    custom = keras.saving.get_custom_objects()
    for entry in ki.list_initializers(None):
        for key in (entry.name, entry.alias):
            assert key not in ALL_OBJECTS_DICT
            assert not hasattr(keras.initializers, key)
            assert custom[key] is getattr(ki, entry.name, None) or entry.kind == "layer"


def test_aliases_resolve_to_the_class():
    for name, alias in PINNED_ALIASES.items():
        assert keras.saving.get_custom_objects()[alias] is getattr(ki, name)
        assert keras.saving.get_registered_name(getattr(ki, name)) == f"keras_inits>{name}"


def test_collision_with_builtin_is_refused_at_registration():
    with pytest.raises(ValueError, match="HeNormal"):

        @registry.register(formula="x", reference="y")
        class HeNormal(keras.initializers.Initializer):
            pass

    # "Zero" itself is not a Keras name, but its alias "zero" is.
    with pytest.raises(ValueError, match="`zero`"):

        @registry.register(formula="x", reference="y")
        class Zero(keras.initializers.Initializer):
            pass


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="already registered"):

        @registry.register(formula="x", reference="y")
        class KaimingNormal(keras.initializers.Initializer):
            pass


def test_layer_kind_checks_keras_layers():
    with pytest.raises(ValueError, match="Dense"):

        @registry.register(formula="x", reference="y", kind="layer")
        class Dense(keras.layers.Layer):
            pass


def test_bad_kind():
    with pytest.raises(ValueError, match="Received: kind=model"):
        registry.register(formula="x", reference="y", kind="model")
    with pytest.raises(ValueError, match="kind"):
        ki.list_initializers("model")
