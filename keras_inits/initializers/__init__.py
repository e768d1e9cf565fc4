"""Every keras_inits initializer; importing this module registers them all."""

from keras_inits.initializers.bias import ChronoBias, PriorBias
from keras_inits.initializers.composite import ICNR, Scaled
from keras_inits.initializers.orthogonal import DeltaOrthogonal
from keras_inits.initializers.structured import Dirac, Sparse, ZerO
from keras_inits.initializers.variance import (
    KaimingNormal,
    KaimingUniform,
    XavierNormal,
    XavierUniform,
)

__all__ = [
    "ChronoBias",
    "DeltaOrthogonal",
    "Dirac",
    "ICNR",
    "KaimingNormal",
    "KaimingUniform",
    "PriorBias",
    "Scaled",
    "Sparse",
    "XavierNormal",
    "XavierUniform",
    "ZerO",
]
