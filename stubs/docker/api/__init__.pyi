from docker.api.client import APIClient as APIClient
