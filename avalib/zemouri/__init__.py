"""Zemouri (2020), Semi-Supervised Adversarial Variational Autoencoder.

- ``networks``   - residual conv encoder, decoder, discriminator, latent classifier (section 4.2).
- ``model``      - the four networks of one run and the losses they compute (eqs. 4, 6-11).
- ``trainer``    - Algorithms 1 and 2 (the steps) and ``ZemouriConfig``; pure functions of their inputs.
- ``units``      - the cached units of work: step 1, the shared warm-up, a trained setting.
- ``experiment`` - what notebooks 02 and 03 call: step-1 rows, latent grids, the beta/gamma sweep.
- ``focus``      - which settings the claims read (kept apart from how they are judged).
- ``claims``     - the claims of section 4.4 as data, judged by ``avalib.claims``.
"""

from avalib.zemouri.model import ZemouriModel  # noqa: F401
from avalib.zemouri.trainer import ZemouriConfig, reconstruct, train  # noqa: F401
