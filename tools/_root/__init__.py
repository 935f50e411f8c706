"""smspec: the executable specification of the Spacemesh protocol."""

__version__ = "0.1.0"
