"""Torale: watches the web for you.

This package is both the Django project and the home of the Python SDK, so importing it
must stay light: nothing here touches Django settings or starts anything.
"""

__version__ = "0.1.0"
