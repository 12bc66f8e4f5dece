"""Sphinx configuration of the study's site (``make site``, ``avalib/site.py``): the front page and
the executed notebooks as they are committed under ``results/``, rendered by MyST-NB without
running any cell, in the book theme; everything installs from the package index and builds
offline."""

project = "avalib: adversarial variational autoencoders, claim by claim"
author = "the avalib study"
extensions = ["myst_nb"]
root_doc = "results/README"
nb_execution_mode = "off"                 # the committed outputs are the results
nb_merge_streams = True
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath", "html_image"]     # <img> (the front page's floated figure)
suppress_warnings = ["myst.header"]       # the notebooks' headings start at their own level
exclude_patterns = ["results/*/*.md"]      # the tables: the notebooks show them, the CSVs hold them
html_theme = "sphinx_book_theme"
html_title = "avalib"
html_theme_options = {"show_toc_level": 2, "use_download_button": True,
                      # the front page's first screen: the findings beside the headline figure
                      "secondary_sidebar_items": {"**": ["page-toc"], "results/README": []}}
html_static_path = ["_static"]
html_css_files = ["study.css"]
