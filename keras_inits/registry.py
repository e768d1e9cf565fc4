"""Registration: importing keras_inits makes every class usable by string.

Each public class goes through :func:`register` once, at import. It is
registered with ``keras.saving.register_keras_serializable(package="keras_inits")``
(so ``model.save``/``load_model`` find it under ``"keras_inits>Name"``) and its
CamelCase name and snake_case alias are added to
``keras.saving.get_custom_objects()`` (so ``Dense(8, kernel_initializer=
"kaiming_normal")`` resolves). An alias that would shadow a Keras built-in is
refused at import with a ``ValueError``: keras_inits extends Keras, it never
replaces one of its names.
"""

from __future__ import annotations

import dataclasses

import keras
from keras.src.utils.naming import to_snake_case

PACKAGE = "keras_inits"


@dataclasses.dataclass(frozen=True)
class CatalogueEntry:
    """One row of :func:`list_initializers`."""

    name: str
    alias: str
    kind: str
    formula: str
    reference: str


_CATALOGUE: dict[str, CatalogueEntry] = {}


def _builtin_names(kind):
    if kind == "initializer":
        from keras.src.initializers import ALL_OBJECTS_DICT

        return set(ALL_OBJECTS_DICT)
    if kind == "layer":
        return {name for name in dir(keras.layers) if not name.startswith("_")}
    raise ValueError(
        "Argument `kind` must be one of {'initializer', 'layer'}. "
        f"Received: kind={kind}"
    )


def register(formula: str, reference: str, kind: str = "initializer"):
    """Class decorator: make `cls` serializable and usable by string.

    Args:
        formula: one line giving what the class computes (shown by
            ``python -m keras_inits list``).
        reference: the paper or code the formula comes from.
        kind: ``"initializer"`` or ``"layer"``; decides which Keras built-in
            names an alias must not shadow.

    Raises:
        ValueError: at import, if the class name or its snake_case alias is
            a Keras built-in name, or already registered by keras_inits.
    """
    builtins = _builtin_names(kind)

    def decorator(cls):
        name = cls.__name__
        alias = to_snake_case(name)
        for key in (name, alias):
            if key in builtins:
                raise ValueError(
                    f"keras_inits cannot register {kind} `{name}`: the name "
                    f"`{key}` is a Keras built-in and would be shadowed."
                )
            if key in _CATALOGUE or any(e.alias == key for e in _CATALOGUE.values()):
                raise ValueError(
                    f"keras_inits cannot register `{name}`: the name `{key}` "
                    "is already registered by keras_inits."
                )
        cls = keras.saving.register_keras_serializable(package=PACKAGE)(cls)
        custom = keras.saving.get_custom_objects()
        custom[name] = cls
        custom[alias] = cls
        _CATALOGUE[name] = CatalogueEntry(name, alias, kind, formula, reference)
        return cls

    return decorator


def list_initializers(kind: str | None = "initializer") -> list[CatalogueEntry]:
    """Every registered class: name, string alias, one-line formula, reference.

    Args:
        kind: ``"initializer"`` (default), ``"layer"``, or ``None`` for all.

    Example:

    >>> import keras_inits as ki
    >>> [e.alias for e in ki.list_initializers()][:2]
    ['kaiming_normal', 'kaiming_uniform']
    """
    if kind is not None and kind not in ("initializer", "layer"):
        raise ValueError(
            "Argument `kind` must be one of {'initializer', 'layer', None}. "
            f"Received: kind={kind}"
        )
    return [e for e in _CATALOGUE.values() if kind is None or e.kind == kind]
