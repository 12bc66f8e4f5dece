"""Nguyen, Abdalla & Amer (2024), Adversarial Variational Autoencoders: AVA1..AVA5, VAE and GAN.

- ``networks`` - the authors' per-channel MLP (``ChannelMLP``), batched over runs.
- ``rules``    - the paper's output-layer errors, one function per equation, and the code's readings.
- ``trainer``  - the seven models as switches of one trainer, under four protocols.
- ``steps``    - one per-sample step of each protocol.
- ``balance``  - the balance metric (eq. 17) and what it gives images no model produced.
- ``report``   - Tables 1-3, paper vs ours, how close each protocol comes, sample rows.
- ``claims``   - the ranking claims of section 4 as data, judged by ``avalib.claims``.
"""

from avalib.nguyen.trainer import (PAPER_LEARNING_RATES, PROTOCOLS, REFERENCE_PROTOCOLS, VARIANTS,  # noqa: F401
                                   NguyenConfig, NguyenResult, Variant, train, variant_from_switches)
