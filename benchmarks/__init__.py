"""Side-by-side performance and robustness runs (not part of the test suite).

Every measurement here is single-threaded: the BLAS and OpenMP pools numpy may use are held
to one thread before anything imports numpy (`python -m benchmarks.x` runs this first).
"""

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
