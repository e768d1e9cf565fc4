"""pytest plugin used only by the mutation run (setup.cfg [mutmut] pytest_add_cli_args).

Two things make mutmut's fork-per-mutant work with TensorFlow:

- One intra-op and one inter-op thread. mutmut forks every mutant's pytest
  run from a server that has collected the tests. If anything ran a
  TensorFlow op before that fork (a test module making a recurrent layer at
  import, say), the thread pools exist in the server but their threads do
  not in the child, and the child's first op large enough to shard waits
  for them forever. With one intra-op thread Eigen runs every op inline.
  Set here, before tests/conftest.py imports TensorFlow; it must be set
  before the first op, so benchmarks/mutation_score.py sets it too.
- gc.freeze() once collection is done. tests/conftest.py calls
  keras.backend.clear_session() after every test, and that runs
  gc.collect(): with TensorFlow imported a full collection walks millions of
  objects (~0.4 s per test on 2 cores). Everything alive when collection
  ends lives until the process exits; frozen, later collections only look
  at what the test made. Test results do not change.
"""

import gc
import os

os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")


def pytest_collection_finish(session):
    gc.freeze()
