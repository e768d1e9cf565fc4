"""keras_inits: principled weight initialization for Keras 3.

Importing this package registers every initializer and layer with Keras, so
``Dense(8, kernel_initializer="kaiming_normal")`` and
``keras.models.load_model("m.keras")`` just work.

    import keras_inits as ki
"""

__version__ = "0.1.0"

from keras_inits import diagnostics, layers, structure
from keras_inits.auto import auto_init
from keras_inits.callbacks import (
    AutoInitCallback,
    InitCallback,
    LSUVCallback,
    ZeroResidualCallback,
)
from keras_inits.diagnostics import SignalReport, signal_report
from keras_inits.fans import compute_fans, einsum_fans
from keras_inits.gain import calculate_gain
from keras_inits.initializers import (
    ICNR,
    ChronoBias,
    DeltaOrthogonal,
    Dirac,
    KaimingNormal,
    KaimingUniform,
    PriorBias,
    Scaled,
    Sparse,
    XavierNormal,
    XavierUniform,
    ZerO,
)
from keras_inits.lsuv import data_dependent_init, lsuv
from keras_inits.metainit import gradinit, metainit
from keras_inits.registry import list_initializers
from keras_inits.reinit import reinitialize
from keras_inits.report import InitReport
from keras_inits.residual import zero_residual
from keras_inits.structure import register_roles
from keras_inits.transformer import init_transformer

__all__ = [
    "AutoInitCallback",
    "ICNR",
    "ChronoBias",
    "DeltaOrthogonal",
    "Dirac",
    "InitCallback",
    "InitReport",
    "KaimingNormal",
    "KaimingUniform",
    "LSUVCallback",
    "PriorBias",
    "Scaled",
    "SignalReport",
    "Sparse",
    "XavierNormal",
    "XavierUniform",
    "ZerO",
    "ZeroResidualCallback",
    "auto_init",
    "calculate_gain",
    "compute_fans",
    "data_dependent_init",
    "diagnostics",
    "einsum_fans",
    "gradinit",
    "init_transformer",
    "layers",
    "list_initializers",
    "lsuv",
    "metainit",
    "register_roles",
    "reinitialize",
    "signal_report",
    "structure",
    "zero_residual",
]
