"""Generic spiders, one per kind of source: a new site is configuration, not code."""
