"""Drop-in ``model.fit`` callbacks that run initialization steps once, at
``on_train_begin``.

At that point Keras has built the model (a Sequential without an ``Input`` is
built here from the step's data), and ``variable.assign`` is honoured by the
training step that follows, jit-compiled or not, on every backend and under
``tf.distribute.MirroredStrategy`` (an assign updates every replica).
"""

from __future__ import annotations

import functools

import keras
from keras.src.utils import io_utils


class InitCallback(keras.callbacks.Callback):
    """Run initialization steps once per model, when training begins.

    Each step is a callable taking the model (``functools.partial(ki.lsuv,
    data=x)`` or ``lambda m: ki.zero_residual(m, mode="fixup")``). Steps run in
    order; their reports are kept in ``reports`` and printed when
    ``verbose``. A second ``fit`` on the same model does not run them again
    unless ``rerun=True``.

    Args:
        *steps: callables ``step(model) -> InitReport``.
        rerun: run again at every ``fit``.
        verbose: 0 silent, 1 print each report.

    Example:

    >>> cb = ki.InitCallback(lambda m: ki.reinitialize(m, seed=0))
    >>> model.fit(x, y, callbacks=[cb])

    If a step raises, the step itself has already restored the weights it
    touched; the error propagates and training does not start.
    """

    def __init__(self, *steps, rerun: bool = False, verbose: int = 1):
        super().__init__()
        if not steps:
            raise ValueError("InitCallback needs at least one step. Received: no steps")
        for step in steps:
            if not callable(step):
                raise TypeError(
                    f"Every step must be callable (taking the model). Received: {step!r}"
                )
        self.steps = steps
        self.rerun = rerun
        self.verbose = verbose
        self.reports = []
        self._done_for = None

    def on_train_begin(self, logs=None):
        model = self.model
        if self._done_for is model and not self.rerun:
            return
        for step in self.steps:
            report = step(model)
            self.reports.append(report)
            if self.verbose:
                io_utils.print_msg(str(report))
        self._done_for = model


class LSUVCallback(InitCallback):
    """``InitCallback`` running :func:`keras_inits.lsuv` on `data`.

    Args:
        data: the batch source (see :func:`keras_inits.lsuv`).
        verbose: 0 silent, 1 print the report.
        **lsuv_kwargs: passed to ``lsuv`` (target_var, tol, max_iters, ...).

    Example:

    >>> model.fit(x, y, callbacks=[ki.LSUVCallback(x[:512])])
    """

    def __init__(self, data, *, rerun: bool = False, verbose: int = 1, **lsuv_kwargs):
        from keras_inits.lsuv import lsuv

        self.data = data
        self.lsuv_kwargs = lsuv_kwargs
        super().__init__(
            functools.partial(lsuv, data=data, verbose=0, **lsuv_kwargs),
            rerun=rerun,
            verbose=verbose,
        )


class ZeroResidualCallback(InitCallback):
    """``InitCallback`` running :func:`keras_inits.zero_residual`.

    Args:
        mode: ``"auto"``, ``"zero_gamma"``, ``"zero_last"`` or ``"fixup"``.
        verbose: 0 silent, 1 print the report.
        **kwargs: passed to ``zero_residual``.
    """

    def __init__(self, mode="auto", *, rerun: bool = False, verbose: int = 1, **kwargs):
        from keras_inits.residual import zero_residual

        self.mode = mode
        super().__init__(
            functools.partial(zero_residual, mode=mode, **kwargs),
            rerun=rerun,
            verbose=verbose,
        )


class AutoInitCallback(InitCallback):
    """``InitCallback`` running :func:`keras_inits.auto_init` once per model.

    Args:
        data: optional batch source (inputs, or ``(x, y)`` for the head's
            prior bias and the gradient check); see :func:`keras_inits.auto_init`.
        verbose: 0 silent, 1 print the report.
        **kwargs: passed to ``auto_init`` (``seed``, ``refine``).

    Example:

    >>> model.fit(x, y, callbacks=[ki.AutoInitCallback((x[:256], y[:256]), seed=0)])
    """

    def __init__(self, data=None, *, rerun: bool = False, verbose: int = 1, **kwargs):
        from keras_inits.auto import _check_refine, auto_init

        _check_refine(kwargs.get("refine"), data)
        self.data = data
        self.kwargs = kwargs
        super().__init__(
            functools.partial(auto_init, data=data, **kwargs), rerun=rerun, verbose=verbose
        )
