"""Nguyen, Abdalla & Amer (2024), Adversarial Variational Autoencoders: AVA1..AVA5, VAE and GAN.

- ``networks`` - the authors' per-channel MLP (``ChannelMLP``), batched over runs.
- ``rules``    - the paper's output-layer errors, one function per equation, and the code's readings.
- ``variants`` - the seven models as switches, the protocols, ``NguyenConfig`` (both trainers').
- ``model``    - the networks of one model for many runs, and their random streams.
- ``updates``  - which error or objective feeds which network (shared with notebook 04).
- ``trainer``  - the seven models as switches of one trainer, under four protocols.
- ``steps``    - one per-sample step of each protocol.
- ``experiment`` - what notebook 01 calls: every model x protocol as a cached unit of work.
- ``balance``  - the balance metric (eq. 17) and what it gives images no model produced.
- ``report``   - Tables 1-3, paper vs ours, how close each protocol comes, sample rows.
- ``claims``   - the ranking claims of section 4 as data, judged by ``avalib.claims``.
"""

from avalib.nguyen.trainer import train  # noqa: F401
from avalib.nguyen.variants import (PAPER_LEARNING_RATES, PROTOCOLS, REFERENCE_PROTOCOLS, VARIANTS,  # noqa: F401
                                    NguyenConfig, NguyenResult, Variant, variant_from_switches)
