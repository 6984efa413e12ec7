"""Images: references, the local content-addressed store, and image sources.

* :mod:`.ref` parses and normalises image references as LinuxKit does.
* :mod:`.store` is the local store (an OCI image layout): :class:`~.store.ImageStore`,
  :class:`~.store.ResolvedImage`, and the errors (:mod:`.errors`).
* :mod:`.archive` imports OCI archives, OCI layout directories and docker-archive tars.
* :mod:`.registry` pulls from OCI registries (:func:`~.registry.pull`,
  :func:`~.registry.ensure_image`), with credentials from :mod:`.credentials`.
* :mod:`.listing` summarises the store; :mod:`.mediatypes` names media types and architectures;
  :mod:`.synth` writes small synthetic images (tests, examples).
"""
