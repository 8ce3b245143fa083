"""``tutorial_kit.upload`` for asyncio code: the same names and arguments, as coroutines;
``objectService`` is a :class:`tutorial_kit.AsyncObject`."""

from tutorial_kit.client.upload import DATA_INLINE_MAX_SIZE
from tutorial_kit.client.upload import upload_async as upload
from tutorial_kit.client.upload import uploadFromBuf_async as uploadFromBuf
from tutorial_kit.client.upload import uploadFromFile_async as uploadFromFile

__all__ = ["DATA_INLINE_MAX_SIZE", "upload", "uploadFromBuf", "uploadFromFile"]
