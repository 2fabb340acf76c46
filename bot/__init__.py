"""Hour of Code coordinator bot: answers district coordinators from the Code.org how-to guide."""

__version__ = "0.1.0"
