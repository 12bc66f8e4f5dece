"""The cross-machine check: the smoke unit of every trainer gives, on this CPU, the fingerprint
committed under portable numerics (``avalib.smoke_units``), and its convolutions run only the
oneDNN kernels that ``avalib.numerics`` names."""

import subprocess
import sys

import pytest

from avalib import numerics

pytestmark = pytest.mark.skipif(not numerics.portable_supported()[0],
                                reason="portable numerics needs an x86-64 CPU with AVX2 and FMA")


def test_every_trainer_gives_the_committed_fingerprint_bit_for_bit():
    environment = numerics.unpinned_environment(AVALIB_NUMERICS="portable", AVALIB_NO_CACHE="1", ONEDNN_VERBOSE="1")
    done = subprocess.run([sys.executable, "-m", "avalib.smoke_units"], env=environment,
                          capture_output=True, text=True)
    report = "\n".join(line for line in done.stdout.splitlines() if not line.startswith("onednn_verbose"))
    assert done.returncode == 0, report + done.stderr[-2000:]
    assert "bit for bit the same as committed" in report, report
    kernels = numerics.onednn_primitives(done.stdout)
    convolutions = {kernel for kind, kernel in kernels if kind in ("convolution", "deconvolution")}
    assert convolutions and convolutions <= set(numerics.ONEDNN_KERNELS), kernels
