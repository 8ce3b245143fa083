"""Upload helpers with the official client's names (``taskcluster.upload``).

``uploadFromBuf(projectId=, name=, contentType=, contentLength=, expires=, data=,
objectService=, uploadId=None, maxRetries=5)``, ``uploadFromFile(file=, ...)`` and
``upload(readerFactory=, ...)``; ``objectService`` is a :class:`tutorial_kit.Object` with the
credentials ``createArtifact`` returned for an ``object`` artifact. Asyncio code uses
:mod:`tutorial_kit.aio.upload`.
"""

from tutorial_kit.client.upload import DATA_INLINE_MAX_SIZE, upload, uploadFromBuf, uploadFromFile

__all__ = ["DATA_INLINE_MAX_SIZE", "upload", "uploadFromBuf", "uploadFromFile"]
