"""osl: observational scaling laws."""
__version__ = "0.1.0"
