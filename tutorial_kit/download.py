"""Download helpers with the official client's names (``taskcluster.download``).

``downloadArtifactToBuf(taskId=, name=, runId=None, queueService=, maxRetries=5)`` returns
``(bytes, contentType)`` for an artifact of any storage type (``s3``, ``object``,
``reference``, ``link`` through the queue); an ``error`` artifact raises
:class:`~tutorial_kit.client.errors.TaskclusterArtifactError`. ``downloadArtifactToFile(file,
...)`` and ``downloadArtifact(writerFactory=, ...)`` write elsewhere; ``download*`` without
``Artifact`` fetch a named object through the Object service. Asyncio code uses
:mod:`tutorial_kit.aio.download`.
"""

from tutorial_kit.client.download import (download, downloadArtifact, downloadArtifactToBuf,
                                          downloadArtifactToFile, downloadToBuf, downloadToFile)

__all__ = ["download", "downloadArtifact", "downloadArtifactToBuf", "downloadArtifactToFile",
           "downloadToBuf", "downloadToFile"]
