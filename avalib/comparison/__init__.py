"""VAE vs GAN: the surveys' adjectives measured, with the study's hybrids in the same table.

- ``networks``   - DCGAN-style generator and encoder / discriminator (Radford et al., 2016).
- ``models``     - the VAE and GAN losses as plain functions.
- ``trainer``    - one trainer per model behind the ``TrainedGenerator`` interface.
- ``experiment`` - what notebook 04 calls: every (dataset, model, seed) trained and scored.
- ``claims``     - Kapoor et al.'s aspect table and Aymen (2023) Table 3, judged by ``avalib.claims``.
"""

from avalib.comparison.trainer import TRAINERS, ComparisonConfig, TrainedGenerator, train_model  # noqa: F401
