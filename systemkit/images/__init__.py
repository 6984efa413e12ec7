"""Images: references, the local content-addressed store, and image sources."""
