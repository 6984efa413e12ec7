# Type stubs for the parts of the `docker` package (docker-py 7.x) that systemkit uses.
# docker ships no type information; these cover systemkit/backends/docker.py and its tests.
from docker.api.client import APIClient as APIClient
from docker.tls import TLSConfig as TLSConfig

__version__: str
