"""The asyncio variants of the artifact helpers, as ``taskcluster.aio`` has them:
:mod:`tutorial_kit.aio.upload` and :mod:`tutorial_kit.aio.download`."""
