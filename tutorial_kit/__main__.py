"""``python -m tutorial_kit``: the ``tutorial-kit`` command, for when the script is not on PATH
(a kernel's ``!python -m tutorial_kit doctor``, or a venv that was not activated)."""

import sys

from tutorial_kit.cli import main

if __name__ == "__main__":
    sys.exit(main())
