"""Yuqing: enterprise public-opinion and grievance monitoring.

This package holds what every stage shares (the `Post` schema, settings) and what ties the
stages together (the pipeline and the `yuqing` CLI).
"""

__version__ = "0.1.0"
