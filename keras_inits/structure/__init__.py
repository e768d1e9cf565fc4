"""The model-structure layer shared by the model-level steps.

- :mod:`keras_inits.structure.roles`: role adapters (``ki.register_roles``),
  the role vocabulary, attribute-path resolution.
- :mod:`keras_inits.structure.hub_families`: the adapters of keras_hub's
  families (a data table, checked against keras-hub 0.32).

Residual structure lives in :mod:`keras_inits.graph` (the only user of
Keras' private graph API); roles of whole models in
:func:`keras_inits.transformer.detect_roles`.
"""

from keras_inits.structure.roles import (
    ROLES,
    Adapter,
    adapter_for,
    register_roles,
    resolve,
)

__all__ = ["ROLES", "Adapter", "adapter_for", "register_roles", "resolve"]
