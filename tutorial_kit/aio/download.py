"""``tutorial_kit.download`` for asyncio code: the same names and arguments, as coroutines;
``queueService`` is a :class:`tutorial_kit.AsyncQueue`."""

from tutorial_kit.client.download import download_async as download
from tutorial_kit.client.download import downloadArtifact_async as downloadArtifact
from tutorial_kit.client.download import downloadArtifactToBuf_async as downloadArtifactToBuf
from tutorial_kit.client.download import downloadArtifactToFile_async as downloadArtifactToFile
from tutorial_kit.client.download import downloadToBuf_async as downloadToBuf
from tutorial_kit.client.download import downloadToFile_async as downloadToFile

__all__ = ["download", "downloadArtifact", "downloadArtifactToBuf", "downloadArtifactToFile",
           "downloadToBuf", "downloadToFile"]
