"""The lessons ship inside the wheel: the build copies the repository's ``notebooks/`` (the one
source of the lessons) and the lesson template into ``tutorial_kit/notebooks/`` of the built
package. Everything else is declared in pyproject.toml."""

import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


def lesson_sources() -> list[pathlib.Path]:
    lessons = sorted((HERE / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    template = HERE / "docs" / "lesson-template.ipynb"
    return lessons + ([template] if template.is_file() else [])


class BuildWithLessons(build_py):
    """build_py, plus the lessons as package data (not in an editable install: there
    ``tutorial_kit.lab`` finds the checkout's notebooks/ itself)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        sources = lesson_sources()
        if not sources:
            raise SystemExit("building tutorial-kit needs the lessons in notebooks/")
        target = pathlib.Path(self.build_lib) / "tutorial_kit" / "notebooks"
        target.mkdir(parents=True, exist_ok=True)
        for source in sources:
            shutil.copyfile(source, target / source.name)


setup(cmdclass={"build_py": BuildWithLessons})
