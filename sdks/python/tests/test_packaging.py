# pyright: basic
"""The in-tree build backend, and what the package promises: typed, Python 3.9, no dependencies."""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib
import os
import sys
import tarfile
import tempfile
import unittest
import zipfile

from helpers import HERE

import kvlar

PROJECT = os.path.dirname(HERE)
SOURCE = os.path.join(PROJECT, "src", "kvlar")
STANDARD_LIBRARY = {
    "__future__", "collections", "dataclasses", "datetime", "enum", "json", "logging", "os", "re",
    "select", "shutil", "signal", "subprocess", "tempfile", "threading", "time", "types", "typing",
    "weakref",
}  # fmt: skip


def backend():  # type: ignore[no-untyped-def]
    sys.path.insert(0, os.path.join(PROJECT, "build_backend"))
    try:
        return importlib.import_module("kvlar_build")
    finally:
        sys.path.pop(0)


def sources():  # type: ignore[no-untyped-def]
    for name in sorted(os.listdir(SOURCE)):
        if name.endswith(".py"):
            with open(os.path.join(SOURCE, name), encoding="utf-8") as file:
                yield name, file.read()


class PackagingTest(unittest.TestCase):
    def test_the_wheel_holds_the_package_its_type_marker_and_a_valid_record(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            name = backend().build_wheel(directory)
            self.assertEqual(name, f"kvlar-{kvlar.__version__}-py3-none-any.whl")
            with zipfile.ZipFile(os.path.join(directory, name)) as wheel:
                names = wheel.namelist()
                self.assertIn("kvlar/py.typed", names)
                self.assertIn("kvlar/__init__.py", names)
                self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc")])
                dist_info = f"kvlar-{kvlar.__version__}.dist-info"
                metadata = wheel.read(f"{dist_info}/METADATA").decode()
                self.assertIn("Requires-Python: >=3.9", metadata)
                self.assertNotIn("Requires-Dist", metadata)
                for line in wheel.read(f"{dist_info}/RECORD").decode().splitlines():
                    path, digest, size = line.split(",")
                    if path.endswith("RECORD"):
                        continue
                    data = wheel.read(path)
                    expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                    self.assertEqual((digest, int(size)), (f"sha256={expected}", len(data)), path)

    def test_the_sdist_and_the_editable_wheel(self) -> None:
        with tempfile.TemporaryDirectory() as directory:
            build = backend()
            sdist = build.build_sdist(directory)
            with tarfile.open(os.path.join(directory, sdist)) as archive:
                members = archive.getnames()
            base = f"kvlar-{kvlar.__version__}"
            for expected in ("PKG-INFO", "pyproject.toml", "build_backend/kvlar_build.py", "src/kvlar/py.typed"):
                self.assertIn(f"{base}/{expected}", members)
            editable = build.build_editable(directory)
            with zipfile.ZipFile(os.path.join(directory, editable)) as wheel:
                pth = [name for name in wheel.namelist() if name.endswith(".pth")]
                self.assertEqual(len(pth), 1)
                self.assertEqual(wheel.read(pth[0]).decode().strip(), os.path.join(PROJECT, "src"))

    def test_the_toml_reader_for_old_pythons_reads_pyproject_as_tomllib_does(self) -> None:
        try:
            import tomllib
        except ImportError:
            self.skipTest("tomllib is Python 3.11+")
        with open(os.path.join(PROJECT, "pyproject.toml"), encoding="utf-8") as file:
            text = file.read()
        self.assertEqual(backend()._read_toml_subset(text), tomllib.loads(text))

    def test_the_sources_are_python_3_9_and_import_only_the_standard_library(self) -> None:
        for name, text in sources():
            with self.subTest(file=name):
                tree = ast.parse(text, filename=name, feature_version=(3, 9))
                if name != "__init__.py":
                    # Annotations stay strings, so `X | None` in one would not break Python 3.9.
                    self.assertIn("from __future__ import annotations", text)
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        modules = [alias.name.split(".")[0] for alias in node.names]
                    elif isinstance(node, ast.ImportFrom) and node.level == 0:
                        modules = [(node.module or "").split(".")[0]]
                    else:
                        continue
                    self.assertTrue(set(modules) <= STANDARD_LIBRARY, f"{name} imports {modules}")

    def test_every_public_name_is_exported(self) -> None:
        for name in kvlar.__all__:
            self.assertTrue(hasattr(kvlar, name), name)
        self.assertTrue(os.path.isfile(os.path.join(os.path.dirname(kvlar.__file__), "py.typed")))
