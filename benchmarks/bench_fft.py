"""Real FFT: scipy.fft (pocketfft) against pyfftw, by size, single thread.

    python benchmarks/bench_fft.py

Prints the median time of rfft+irfft pairs per size and the ratio; the crossover sets
sigdist._fft.PYFFTW_MIN_SIZE.
"""

from __future__ import annotations

import timeit

import numpy as np
import scipy.fft


def main():
    try:
        import pyfftw
        import pyfftw.interfaces.scipy_fft as fftw

        pyfftw.interfaces.cache.enable()
    except ImportError:
        print("pyfftw not installed: nothing to compare")
        return
    print(f"{'n':>9} {'scipy us':>10} {'pyfftw us':>10} {'scipy/pyfftw':>13}")
    rng = np.random.default_rng(0)
    for p in range(8, 23, 2):
        n = 1 << p
        x = rng.standard_normal(n)
        number = max(1, 2_000_000 // n)
        t_s = min(timeit.repeat(lambda: scipy.fft.irfft(scipy.fft.rfft(x), n), number=number, repeat=5)) / number
        fftw.irfft(fftw.rfft(x), n)  # plan once
        t_f = min(timeit.repeat(lambda: fftw.irfft(fftw.rfft(x), n), number=number, repeat=5)) / number
        print(f"{n:>9} {t_s * 1e6:>10.1f} {t_f * 1e6:>10.1f} {t_s / t_f:>13.2f}")


if __name__ == "__main__":
    main()
