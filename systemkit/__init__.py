"""systemkit: LinuxKit-style bootable systems as typed Python."""

__version__ = "0.1.0"
