"""Build real environments for tests: interpreters, venvs, wheels, and legacy installs.

Legacy formats are written the way setuptools/distutils wrote them (file names escaped with
`to_filename`, the same member files, `easy-install.pth` with its `import` header and footer),
because no current tool will produce them any more.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
PYTAG = f"py{PY}"


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment without any pip/uv/Python configuration, plus `extra`.

    pip is isolated from the machine's configuration: PIP_CONFIG_FILE=/dev/null and no other
    PIP_* or UV_* variables; PYTHON* variables (PYTHONPATH, PYTHONUSERBASE, …) are dropped so
    that each test states the ones it means.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "PYTHON", "VIRTUAL_ENV", "CONDA"))
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    if extra:
        env.update(extra)
    return env


def run(args: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None) -> str:
    """Run a command; fail loudly with its output."""
    completed = subprocess.run(
        [os.fspath(a) for a in args], capture_output=True, text=True,
        env=dict(env) if env is not None else clean_env(), cwd=cwd, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{args!r} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
        )
    return completed.stdout


# ----------------------------------------------------------------------------- interpreters


def make_base_installation(dest: Path) -> Path:
    """A separate Python installation at `dest`, returning its interpreter.

    A copy of the running interpreter's binary in `dest/bin`, and `dest/lib/pythonX.Y` holding
    symlinks to every entry of the real standard library *except* `site-packages`, which is a
    real, empty directory. Python finds its prefix from the binary's location (the `os.py`
    landmark), so `sys.prefix` is `dest` and its site-packages is ours alone: a venv made with
    `--system-site-packages` from this interpreter has a base layer the test owns entirely.
    """
    real_binary = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
    stdlib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix,
                                             "installed_base": sys.base_prefix})["stdlib"])
    (dest / "bin").mkdir(parents=True)
    lib = dest / "lib" / f"python{PY}"
    lib.mkdir(parents=True)
    python = dest / "bin" / f"python{PY}"
    shutil.copy2(real_binary, python)
    for entry in stdlib.iterdir():
        if entry.name != "site-packages":
            (lib / entry.name).symlink_to(entry)
    (lib / "site-packages").mkdir()
    return python


def make_venv(python: Path, dest: Path, *, system_site_packages: bool = False) -> Path:
    """A venv without pip (pip is run from outside with --python): fast to create."""
    args: list[str | os.PathLike[str]] = [python, "-m", "venv", "--without-pip"]
    if system_site_packages:
        args.append("--system-site-packages")
    run([*args, dest])
    return dest / "bin" / "python"


def site_packages(python: Path, env: Mapping[str, str] | None = None) -> Path:
    return Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    env=env).strip())


def pip_install(python: Path, wheels: Iterable[Path], *, target: Path | None = None) -> None:
    """Install local wheels into `python`'s environment with the test runner's own pip."""
    args: list[str | os.PathLike[str]] = [
        sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-deps",
        "--disable-pip-version-check", "--no-warn-script-location", "--root-user-action=ignore",
        "--quiet",
    ]
    if target is not None:
        args += ["--target", target]
    run([*args, *wheels])


def importlib_distributions(python: Path, env: Mapping[str, str],
                            cwd: Path) -> list[tuple[str | None, str | None, str]]:
    """(Name, Version, path) of each distribution importlib.metadata lists in `python`."""
    script = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps([(d.metadata['Name'], d.version, str(getattr(d, '_path', '')))"
        " for d in m.distributions()]))"
    )
    return [tuple(row) for row in json.loads(run([python, "-c", script], env=env, cwd=cwd))]


def importlib_versions(python: Path, env: Mapping[str, str], cwd: Path,
                       names: Iterable[str]) -> dict[str, str | None]:
    """`importlib.metadata.version(name)` in `python`: the copy import would use."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "out = {}\n"
        "for n in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        out[n] = m.version(n)\n"
        "    except Exception:\n"
        "        out[n] = None\n"
        "print(json.dumps(out))"
    )
    return dict(json.loads(run([python, "-c", script, json.dumps(sorted(names))],
                               env=env, cwd=cwd)))


# ----------------------------------------------------------------------------- wheels


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def escape(name: str) -> str:
    """The wheel/dist-info file name form of a project name."""
    return re.sub(r"[-_.]+", "_", name).lower()


def build_wheel(dest: Path, name: str, version: str, *, requires: Sequence[str] = (),
                extras: Sequence[str] = (), requires_python: str | None = None) -> Path:
    """A minimal pure-Python wheel with METADATA, WHEEL and RECORD, importable as a module."""
    dist_info = f"{escape(name)}-{version}.dist-info"
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Provides-Extra: {extra}" for extra in extras]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    files = {
        f"{escape(name)}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{dist_info}/METADATA": ("\n".join(lines) + "\n").encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: envbuild\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{escape(name)}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


# ----------------------------------------------------------------------------- legacy formats


def safe_name(name: str) -> str:
    """setuptools' `safe_name`: runs of other characters become `-`."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", name)


def to_filename(name: str) -> str:
    """setuptools' `to_filename`: `-` becomes `_` in file names."""
    return name.replace("-", "_")


def pkg_info(name: str, version: str, *, metadata_version: str = "2.1",
             extra_headers: Sequence[str] = ()) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}",
             "Summary: a legacy test distribution", "Home-page: UNKNOWN", "Author: test",
             "License: MIT", "Platform: UNKNOWN", *extra_headers]
    return "\n".join(lines) + "\n\nLong description.\n"


def _egg_info_files(name: str, version: str, requires_txt: str | None,
                    extra_headers: Sequence[str] = ()) -> dict[str, str]:
    module = to_filename(safe_name(name)).lower()
    files = {
        "PKG-INFO": pkg_info(name, version, extra_headers=extra_headers),
        "SOURCES.txt": f"setup.py\n{module}/__init__.py\n",
        "dependency_links.txt": "\n",
        "top_level.txt": f"{module}\n",
    }
    if requires_txt is not None:
        files["requires.txt"] = requires_txt
    return files


def _module(directory: Path, name: str, version: str) -> None:
    package = directory / to_filename(safe_name(name)).lower()
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(f"VERSION = {version!r}\n")


def egg_stem(name: str, version: str) -> str:
    return f"{to_filename(safe_name(name))}-{to_filename(safe_name(version))}-{PYTAG}"


def write_egg_info_dir(site: Path, name: str, version: str, *, requires_txt: str | None = None,
                       installer: str | None = None, extra_headers: Sequence[str] = ()) -> Path:
    """What `setup.py install --single-version-externally-managed` (pip's legacy install) left."""
    egg_info = site / f"{egg_stem(name, version)}.egg-info"
    egg_info.mkdir(parents=True)
    for file_name, text in _egg_info_files(name, version, requires_txt, extra_headers).items():
        (egg_info / file_name).write_text(text)
    (egg_info / "installed-files.txt").write_text(f"../{to_filename(name).lower()}/__init__.py\n")
    if installer is not None:
        (egg_info / "INSTALLER").write_text(installer + "\n")
    _module(site, name, version)
    return egg_info


def write_egg_info_file(site: Path, name: str, version: str) -> Path:
    """What distutils' `install_egg_info` wrote: one file holding PKG-INFO (Metadata 1.0)."""
    path = site / f"{egg_stem(name, version)}.egg-info"
    path.write_text(pkg_info(name, version, metadata_version="1.0"))
    _module(site, name, version)
    return path


def add_to_easy_install_pth(site: Path, entry: str) -> None:
    """Append to easy-install.pth as old setuptools wrote it: entries between `import` lines
    that move them to the front of sys.path (depsat must skip those lines, never run them)."""
    pth = site / "easy-install.pth"
    header = "import sys; sys.__plen = len(sys.path)\n"
    footer = ("import sys; new = sys.path[sys.__plen:]; del sys.path[sys.__plen:]; "
              "p = getattr(sys, '__egginsert', 0); sys.path[p:p] = new; "
              "sys.__egginsert = p + len(new)\n")
    entries = []
    if pth.exists():
        entries = [line for line in pth.read_text().splitlines()
                   if line and not line.startswith("import")]
    entries.append(entry)
    pth.write_text(header + "".join(f"{e}\n" for e in entries) + footer)


def write_egg_dir(site: Path, name: str, version: str, *, requires_txt: str | None = None,
                  listed: bool = True) -> Path:
    """An unzipped egg (`easy_install` / `setup.py install` of old), listed in easy-install.pth."""
    egg = site / f"{egg_stem(name, version)}.egg"
    (egg / "EGG-INFO").mkdir(parents=True)
    for file_name, text in _egg_info_files(name, version, requires_txt).items():
        (egg / "EGG-INFO" / file_name).write_text(text)
    (egg / "EGG-INFO" / "not-zip-safe").write_text("\n")
    _module(egg, name, version)
    if listed:
        add_to_easy_install_pth(site, f"./{egg.name}")
    return egg


def write_egg_zip(site: Path, name: str, version: str, *, requires_txt: str | None = None,
                  listed: bool = True) -> Path:
    """A zipped egg, listed in easy-install.pth."""
    egg = site / f"{egg_stem(name, version)}.egg"
    module = to_filename(safe_name(name)).lower()
    with zipfile.ZipFile(egg, "w") as archive:
        for file_name, text in _egg_info_files(name, version, requires_txt).items():
            archive.writestr(f"EGG-INFO/{file_name}", text)
        archive.writestr("EGG-INFO/zip-safe", "\n")
        archive.writestr(f"{module}/__init__.py", f"VERSION = {version!r}\n")
    if listed:
        add_to_easy_install_pth(site, f"./{egg.name}")
    return egg


def write_develop_install(site: Path, project: Path, name: str, version: str, *,
                          requires_txt: str | None = None) -> Path:
    """`setup.py develop`: the project's own egg-info, an .egg-link, and easy-install.pth."""
    project.mkdir(parents=True, exist_ok=True)
    egg_info = project / f"{to_filename(safe_name(name))}.egg-info"
    egg_info.mkdir()
    for file_name, text in _egg_info_files(name, version, requires_txt).items():
        (egg_info / file_name).write_text(text)
    _module(project, name, version)
    link = site / f"{safe_name(name)}.egg-link"
    link.write_text(f"{project}\n.")
    add_to_easy_install_pth(site, str(project))
    return link


def write_dist_info(site: Path, name: str, version: str, *, requires: Sequence[str] = (),
                    installer: str | None = "pip", requested: bool = False,
                    direct_url: str | None = None, metadata: bytes | None = None) -> Path:
    """A dist-info directory as an installer leaves it (for formats pip will not make here)."""
    dist_info = site / f"{escape(name)}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    if metadata is None:
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                 *(f"Requires-Dist: {r}" for r in requires)]
        metadata = ("\n".join(lines) + "\n").encode()
    (dist_info / "METADATA").write_bytes(metadata)
    if installer is not None:
        (dist_info / "INSTALLER").write_text(installer + "\n")
    if requested:
        (dist_info / "REQUESTED").write_text("")
    if direct_url is not None:
        (dist_info / "direct_url.json").write_text(direct_url)
    (dist_info / "RECORD").write_text("")
    return dist_info


def write_pep660_editable(site: Path, project: Path, name: str, version: str) -> Path:
    """A PEP 660 editable install as pip + setuptools leave it: dist-info, direct_url.json
    with `dir_info.editable`, and a `__editable__` .pth putting the project on sys.path."""
    (project / "src").mkdir(parents=True, exist_ok=True)
    _module(project / "src", name, version)
    direct_url = ('{"dir_info": {"editable": true}, "url": "' + project.as_uri() + '"}')
    dist_info = write_dist_info(site, name, version, installer="pip", requested=True,
                                direct_url=direct_url)
    (site / f"__editable__.{escape(name)}-{version}.pth").write_text(f"{project / 'src'}\n")
    return dist_info
