"""avalib: a reproducible study of adversarial variational autoencoders.

Modules, one job each:
- ``atomic``   - write-then-rename helper used by every writer in the package.
- ``download`` - the dataset manifest and verified fetching (mirror or canonical URL).
- ``data``     - dataset loaders returning float tensors in [0, 1] plus labels.
- ``results``  - seeding, provenance, tables and figures into ``results/<notebook>/``.
- ``plotting`` - image grids and bar charts.
- ``metrics``  - the balance metric of Nguyen et al. (2024); classifier Inception Score, Frechet
  distance, class coverage, sharpness.
- ``nets``     - the AVA authors' per-channel MLPs; Zemouri's residual conv networks; DCGAN nets;
  the domain classifier.
- ``nguyen``   - AVA1..AVA5, VAE and GAN as configurations of one update-rule trainer.
- ``nguyen_rules`` - the AVA paper's output-layer errors, and the authors' code's readings of them.
- ``nguyen_report`` - Tables 1-3, paper-vs-ours, the two readings of the code, the ranking claims.
- ``verdicts`` - the study's one verdict rule (paired t over seeds, Holm over a table).
- ``training`` - minibatches, the NaN guard and progress bars shared by the trainers.
- ``cache``    - trained models cached on disk by their configuration.
- ``domain_classifier`` - the per-dataset CNN that judges generated images.
- ``zemouri``  - the two-step semi-supervised adversarial VAE (Algorithms 1 and 2).
- ``zemouri_report`` - step-1 table, reconstruction metrics, the beta/gamma sweep and its claims.
- ``vae_gan``  - matched VAE and DCGAN-style GAN, and the hybrids, behind one interface.
- ``vae_gan_report`` - per-run metrics, the survey's aspect table and Inception Score table.
"""

__version__ = "0.1.0"
