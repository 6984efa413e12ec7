from docker.context.api import ContextAPI as ContextAPI
from docker.context.context import Context as Context
