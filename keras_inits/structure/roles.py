"""Role adapters: which attribute of a layer class plays which transformer role.

A user's subclassed block, or a keras_hub family, is made known with
:func:`register_roles`::

    ki.register_roles(MyBlock, {
        "attn.q": "q", "attn.k": "k", "attn.v": "v", "attn.out": "o",
        "mlp.up": "ffn_in", "mlp.gate": "ffn_gate", "mlp.down": "ffn_out",
        "norm1": "norm", "norm2": "norm",
    }, part="decoder")

A class whose roles include attention or FFN roles is one transformer block.
Classes are matched by their module and qualified name along the MRO, so a
table of keras_hub classes needs no keras_hub import, and subclasses inherit
their parent's adapter.
"""

from __future__ import annotations

import dataclasses

import keras

ROLES = (
    "embedding", "position", "q", "k", "v", "qkv", "o",
    "ffn_in", "ffn_gate", "ffn_out", "norm", "head",
)
BLOCK_ROLES = frozenset({"q", "k", "v", "qkv", "o", "ffn_in", "ffn_gate", "ffn_out"})
PARTS = ("encoder", "decoder")


@dataclasses.dataclass(frozen=True)
class Adapter:
    """The registered roles of one layer class.

    Attributes:
        roles: attribute path (dotted) -> role.
        part: "encoder", "decoder", None (not a block, or undecided) or
            "auto:<attribute>" (decoder when that attribute of the instance
            is true, e.g. T5's ``is_decoder``).
        cross: attribute path -> role for the block's cross-attention.
    """

    roles: dict
    part: str | None = None
    cross: dict = dataclasses.field(default_factory=dict)

    @property
    def is_block(self) -> bool:
        """A layer with projections (its own or cross-attention ones) is a block."""
        return bool(BLOCK_ROLES & (set(self.roles.values()) | set(self.cross.values())))

    def part_of(self, layer) -> str:
        if self.part is None:
            return "encoder"
        if self.part.startswith("auto:"):
            return "decoder" if getattr(layer, self.part[5:], False) else "encoder"
        return self.part


_REGISTRY: dict[tuple[str, str], Adapter] = {}
_HUB_LOADED = []


def _check_roles(argument, roles):
    if not isinstance(roles, dict):
        raise TypeError(f"Argument `{argument}` must be a dict of attribute path -> role. "
                        f"Received: {argument} of type {type(roles).__name__}")
    for path, role in roles.items():
        if not isinstance(path, str) or not path or any(not p for p in path.split(".")):
            raise ValueError(f"Argument `{argument}` has an invalid attribute path {path!r}: "
                             "it must be a non-empty dotted attribute name.")
        if role not in ROLES:
            raise ValueError(f"Argument `{argument}` maps {path!r} to unknown role {role!r}: "
                             f"a role is one of {ROLES}. Received: {argument}={roles!r}")
    return dict(roles)


def register_roles(layer_cls, roles: dict, *, part: str | None = None,
                   cross: dict | None = None) -> None:
    """Declare the roles of the sublayers (or variables) of a layer class.

    Args:
        layer_cls: a ``keras.layers.Layer`` subclass (subclasses inherit it).
        roles: attribute path (dotted: ``"attention.query_dense"``; an
            integer part indexes a list, ``"mlp.layers.-1"`` is the last
            layer of a Sequential held as ``mlp``) -> role,
            one of ``embedding, position, q, k, v, qkv, o, ffn_in, ffn_gate,
            ffn_out, norm, head``. A path resolves, on an instance, to a layer
            (its kernel/bias/gamma/beta/embeddings get the role) or to a
            ``keras.Variable``. Paths that do not resolve on an instance
            (an optional bias, a layer built only in some configurations) are
            skipped for that instance.
        part: ``"encoder"`` (bidirectional self-attention), ``"decoder"``
            (causal), ``"auto:<attribute>"`` (decoder when that boolean
            attribute of the instance is true) or None (the default: encoder
            for a block).
        cross: attribute path -> role (q/k/v/o) for the block's
            cross-attention projections.

    Raises:
        TypeError: `layer_cls` is not a Layer subclass, `roles` not a dict.
        ValueError: an unknown role, an invalid path or part.

    Example:

    >>> ki.register_roles(MyBlock, {"attn": "qkv", "proj": "o", "fc1": "ffn_in",
    ...                             "fc2": "ffn_out"})
    """
    if not (isinstance(layer_cls, type) and issubclass(layer_cls, keras.layers.Layer)):
        raise TypeError("Argument `layer_cls` must be a keras.layers.Layer subclass. "
                        f"Received: layer_cls={layer_cls!r}")
    roles = _check_roles("roles", roles)
    cross = _check_roles("cross", cross or {})
    if part is not None and part not in PARTS and not (
        isinstance(part, str) and part.startswith("auto:") and len(part) > 5
    ):
        raise ValueError(f"Argument `part` must be one of {PARTS}, 'auto:<attribute>' or None. "
                         f"Received: part={part!r}")
    _REGISTRY[(layer_cls.__module__, layer_cls.__qualname__)] = Adapter(roles, part, cross)


def _load_hub_families():
    """Register the keras_hub table once (no keras_hub import: names only)."""
    if _HUB_LOADED:
        return
    _HUB_LOADED.append(True)
    from keras_inits.structure.hub_families import FAMILIES

    for entry in FAMILIES:
        module, name, roles, part = entry[:4]
        cross = entry[4] if len(entry) > 4 else {}
        key = (module, name)
        if key not in _REGISTRY:  # a user's registration wins
            _REGISTRY[key] = Adapter(_check_roles("roles", roles), part,
                                     _check_roles("cross", cross))


def sync_derived(model, changed) -> list[str]:
    """Refresh the saved copy of every derived weight whose source changed.

    `changed` holds the ids of the variables a step changed. For each layer
    of a class in ``hub_families.DERIVED`` whose used weight is among them,
    the saved weight is recomputed from it exactly as the layer's own
    ``save_own_variables`` does. Returns one note per weight set.
    """
    from keras_inits.structure.hub_families import DERIVED

    classes = {(module, name): rest for module, name, *rest in DERIVED}
    notes = []
    from keras_inits import graph

    for layer in graph.sublayers(model)[1:]:
        entry = next((classes[(c.__module__, c.__qualname__)] for c in type(layer).__mro__
                      if (c.__module__, c.__qualname__) in classes), None)
        if entry is None:
            continue
        used_name, saved_name, method, kwargs = entry
        used, saved = getattr(layer, used_name, None), getattr(layer, saved_name, None)
        if used is None or saved is None or id(used) not in changed:
            continue
        value = getattr(layer, method)(used, **{k: getattr(layer, a) for k, a in kwargs.items()})
        saved.assign(value)
        notes.append(f"{saved.path}: set from {used_name} (the copy {type(layer).__name__} "
                     "saves; keras_hub writes it only when its signed change sum > epsilon)")
    return notes


def adapter_for(layer) -> Adapter | None:
    """The adapter registered for `layer`'s class or its nearest base, or None."""
    _load_hub_families()
    for cls in type(layer).__mro__:
        found = _REGISTRY.get((cls.__module__, cls.__qualname__))
        if found is not None:
            return found
    return None


def resolve(obj, path: str):
    """Follow a dotted attribute path; None where it does not resolve.

    A part that is an integer indexes a list or tuple (negative from the
    end): ``"mlp.layers.0"`` and ``"mlp.layers.-1"`` are the first and last
    layers of a ``keras.Sequential`` held as ``mlp``; ``"query_layers.-1"``
    the last layer of a list attribute.
    """
    for part in path.split("."):
        if isinstance(obj, (list, tuple)):
            try:
                obj = obj[int(part)]
            except (ValueError, IndexError):
                return None
        else:
            obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj
