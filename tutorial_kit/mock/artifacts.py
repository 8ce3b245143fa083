"""Artifact methods of the mock queue (placeholder: being written)."""


class ArtifactsMixin:
    """Artifact methods, mixed into QueueBackend."""
