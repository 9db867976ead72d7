"""A PEP 517 build backend for the kvlar SDK, standard library only.

pyproject.toml names it with ``backend-path`` and ``requires = []``, so building needs no
download: ``pip install ./sdks/python`` works offline with build isolation on. It builds a pure
wheel (``py3-none-any``) of ``src/kvlar``, an sdist, and (PEP 660) an editable wheel that puts
``src`` on ``sys.path`` through a ``.pth`` file.

Only the ``[project]`` keys this SDK uses are read. Python 3.11+ parses pyproject.toml with
``tomllib``; older ones with a reader for the subset this file is written in.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from typing import Any, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "kvlar"
SOURCE = os.path.join(ROOT, "src")
TAG = "py3-none-any"
# Fixed times keep archives byte-identical from one build to the next.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
SDIST_FILES = ["pyproject.toml", "README.md", "build_backend/kvlar_build.py"]


# -- PEP 517 hooks ------------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    return []


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None
) -> str:
    return _write_dist_info(metadata_directory)


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None
) -> str:
    return _write_dist_info(metadata_directory)


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    files = [(f"{PACKAGE}/{name}", data) for name, data in _package_files()]
    return _write_wheel(wheel_directory, files)


def build_editable(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    project = _project()
    pth = f"__editable__.{_dist_name(project)}-{project['version']}.pth"
    return _write_wheel(wheel_directory, [(pth, (SOURCE + "\n").encode("utf-8"))])


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    members: List[Tuple[str, bytes]] = [("PKG-INFO", _metadata(project))]
    for name in SDIST_FILES:
        with open(os.path.join(ROOT, name), "rb") as file:
            members.append((name, file.read()))
    members += [(f"src/{PACKAGE}/{name}", data) for name, data in _package_files()]
    path = os.path.join(sdist_directory, f"{base}.tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(time.mktime(ZIP_TIME + (0, 0, -1)))
            archive.addfile(info, io.BytesIO(data))
    return os.path.basename(path)


# -- wheel --------------------------------------------------------------------------------------


def _write_wheel(directory: str, files: List[Tuple[str, bytes]]) -> str:
    project = _project()
    name = _dist_name(project)
    dist_info = f"{name}-{project['version']}.dist-info"
    files = files + [
        (f"{dist_info}/METADATA", _metadata(project)),
        (f"{dist_info}/WHEEL", _wheel_file()),
    ]
    record = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files]
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    wheel = f"{name}-{project['version']}-{TAG}.whl"
    with zipfile.ZipFile(os.path.join(directory, wheel), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return wheel


def _write_dist_info(metadata_directory: str) -> str:
    project = _project()
    dist_info = f"{_dist_name(project)}-{project['version']}.dist-info"
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    for name, data in (("METADATA", _metadata(project)), ("WHEEL", _wheel_file())):
        with open(os.path.join(target, name), "wb") as file:
            file.write(data)
    return dist_info


def _package_files() -> List[Tuple[str, bytes]]:
    """Every file of src/kvlar (sources and py.typed), sorted; no caches."""
    root = os.path.join(SOURCE, PACKAGE)
    found: List[Tuple[str, bytes]] = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(directory, name)
            with open(path, "rb") as file:
                found.append((os.path.relpath(path, root).replace(os.sep, "/"), file.read()))
    _check_version(dict(found))
    return found


def _check_version(files: Dict[str, bytes]) -> None:
    """``kvlar.__version__`` must say what pyproject.toml says."""
    version = _project()["version"]
    match = re.search(rb'^__version__ = "([^"]+)"$', files.get("__init__.py", b""), re.MULTILINE)
    if match is None or match.group(1).decode() != version:
        raise RuntimeError(f"src/kvlar/__init__.py's __version__ must be {version!r}, as in pyproject.toml")


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def _wheel_file() -> bytes:
    return (
        "Wheel-Version: 1.0\n"
        "Generator: kvlar_build\n"
        "Root-Is-Purelib: true\n"
        f"Tag: {TAG}\n"
    ).encode("utf-8")


def _metadata(project: Dict[str, Any]) -> bytes:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    license_ = project.get("license")
    if isinstance(license_, dict) and "text" in license_:
        lines.append(f"License: {license_['text']}")
    if project.get("keywords"):
        lines.append(f"Keywords: {','.join(project['keywords'])}")
    lines += [f"Classifier: {classifier}" for classifier in project.get("classifiers", [])]
    readme = project.get("readme")
    body = ""
    if isinstance(readme, str):
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(ROOT, readme), encoding="utf-8") as file:
            body = file.read()
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def _dist_name(project: Dict[str, Any]) -> str:
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


# -- pyproject.toml -----------------------------------------------------------------------------


def _project() -> Dict[str, Any]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as file:
        text = file.read().decode("utf-8")
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        document = _read_toml_subset(text)
    else:
        document = tomllib.loads(text)
    project = document.get("project")
    if not isinstance(project, dict):
        raise RuntimeError("pyproject.toml has no [project] table")
    for key in ("name", "version", "description", "requires-python"):
        if not isinstance(project.get(key), str):
            raise RuntimeError(f"pyproject.toml: [project] needs {key} = \"…\"")
    return project


_KEY = re.compile(r"^([A-Za-z0-9_-]+)\s*=\s*(.*)$")


def _read_toml_subset(text: str) -> Dict[str, Any]:
    """Tables, and keys whose values are booleans, strings, arrays of strings (over several
    lines too) or inline tables of strings: all that this project's pyproject.toml uses."""
    document: Dict[str, Any] = {}
    table = document
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = _strip_comment(lines[index]).strip()
        index += 1
        if not line:
            continue
        if line.startswith("["):
            table = document
            for part in line.strip("[]").split("."):
                table = table.setdefault(part.strip(), {})
            continue
        match = _KEY.match(line)
        if match is None:
            raise RuntimeError(f"pyproject.toml: cannot read {line!r} without tomllib (Python 3.11+)")
        key, value = match.group(1), match.group(2).strip()
        if value.startswith("[") and not value.endswith("]"):
            while index < len(lines) and not value.endswith("]"):
                value += " " + _strip_comment(lines[index]).strip()
                index += 1
        table[key] = _value(value)
    return document


def _value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"'):
        return _string(text)
    if text.startswith("["):
        items = re.findall(r'"(?:[^"\\]|\\.)*"', text)
        return [_string(item) for item in items]
    if text.startswith("{"):
        pairs = re.findall(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*")', text)
        return {key: _string(value) for key, value in pairs}
    raise RuntimeError(f"pyproject.toml: cannot read the value {text!r} without tomllib (Python 3.11+)")


def _string(text: str) -> str:
    match = re.match(r'^"((?:[^"\\]|\\.)*)"', text)
    if match is None:
        raise RuntimeError(f"pyproject.toml: not a string: {text!r}")
    return match.group(1).replace('\\"', '"').replace("\\\\", "\\")


def _strip_comment(line: str) -> str:
    in_string = False
    for position, char in enumerate(line):
        if char == '"' and (position == 0 or line[position - 1] != "\\"):
            in_string = not in_string
        elif char == "#" and not in_string:
            return line[:position]
    return line
