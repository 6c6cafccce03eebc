"""Core metadata of an sdist that only a build can tell (opt-in: `--build-metadata`).

An sdist whose PKG-INFO is older than Metadata 2.2, or declares its dependencies Dynamic,
does not say what it depends on until its build backend is asked. `MetadataBuilder` asks:
it unpacks the sdist into a temporary directory and calls the PEP 517 hook
`prepare_metadata_for_build_wheel` through the `build` library (which builds a whole wheel
when the backend lacks that hook). This runs code from the sdist, which is why it is opt-in.

* **Where the backend runs.** When every build requirement (`[build-system] requires`, then
  the backend's `get_requires_for_build_wheel`) is already installed where depsat runs, the
  hooks run with this interpreter, offline and without creating anything; otherwise in a
  fresh `build.env.DefaultIsolatedEnv`, the requirements installed by pip from the same
  indexes and find-links as the resolution (as pip and uv do for build isolation), never
  from the machine's pip configuration: every build subprocess gets `PIP_CONFIG_FILE` set to
  the null device and no inherited `PIP_*` / `UV_*` variables but the certificates pip is
  to trust (`PIP_CERT`, else `SSL_CERT_FILE`, as depsat does). Metadata is built with the
  interpreter running depsat; a `setup.py` that computes dependencies from the running
  Python answers for it.
* **Cache.** Results are stored under the HTTP cache's directory (`build-metadata-v1/`),
  one file per sdist named by the SHA-256 of its bytes, written to a temporary file and
  moved into place, so a second run builds nothing and a failed or interrupted build leaves
  no entry. Failures are not cached: installing a missing backend fixes the next run.
* **Failures** (a backend that raises or is missing, a timeout, a corrupt archive, metadata
  that does not parse) raise `MetadataBuildError` with one short line of cause; backend
  output is captured, never printed.

`build` is imported on the first build only, so that runs without `--build-metadata` (and
runs whose builds are all cached) do not load it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from depsat.sources.distfiles import CoreMetadata, DistFileError, parse_core_metadata
from depsat.sources.http import FetchEvent, FetchKind, ProgressCallback, no_progress

if TYPE_CHECKING:
    from build import ProjectBuilder
    from build.env import DefaultIsolatedEnv

__all__ = ["BUILD_CACHE_FORMAT", "MetadataBuildError", "MetadataBuilder", "build_environ"]

BUILD_CACHE_FORMAT = "build-metadata-v1"
"""The cache's subdirectory for built metadata; bump it when the entry format changes."""
_MAX_UNPACKED_BYTES = 2 * 1024**3
"""An sdist unpacking to more than this is treated as corrupt (a decompression bomb)."""


class MetadataBuildError(DistFileError):
    """The metadata of an sdist could not be built; the message is one line saying why."""


class _Timeout(Exception):
    """The build ran past its time budget."""


_TRUST = frozenset({"PIP_CERT", "PIP_CLIENT_CERT"})
"""The pip settings a build's pip keeps: whom to trust, not where to look."""


def build_environ(index_urls: Sequence[str] = (), find_links: Sequence[str] = (), *,
                  offline: bool = False,
                  base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every build subprocess: `base` (default: this process's) without
    pip and uv settings, and pip pointed at depsat's own indexes (the first is pip's index
    URL, the others extra ones) and find-links; no index at all offline or without one.

    The certificates pip trusts are kept (``PIP_CERT``, ``PIP_CLIENT_CERT``), or else given
    as the ones depsat trusts (``SSL_CERT_FILE``, which pip does not read): they say whom to
    trust, not where to look, and behind a proxy with its own authority pip found no build
    requirement at all."""
    source = os.environ if base is None else base
    environ = {k: v for k, v in source.items()
               if not k.startswith(("PIP_", "UV_")) or k in _TRUST}
    if "PIP_CERT" not in environ and source.get("SSL_CERT_FILE"):
        environ["PIP_CERT"] = source["SSL_CERT_FILE"]
    environ.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1",
                   PIP_DISABLE_PIP_VERSION_CHECK="1")
    if index_urls and not offline:
        environ["PIP_INDEX_URL"] = index_urls[0]
        if len(index_urls) > 1:
            environ["PIP_EXTRA_INDEX_URL"] = " ".join(index_urls[1:])
    else:
        environ["PIP_NO_INDEX"] = "1"
    if find_links:
        environ["PIP_FIND_LINKS"] = " ".join(find_links)
    return environ


def _checked(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        raise MetadataBuildError(f"the sdist has a member outside its directory: {name!r}")


def _extract_zip(data: bytes, target: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        for info in members:
            _checked(info.filename)
        if sum(i.file_size for i in members) > _MAX_UNPACKED_BYTES:
            raise MetadataBuildError("the sdist unpacks to more than 2 GiB")
        archive.extractall(target)


def _extract_tar(data: bytes, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        members = archive.getmembers()
        for info in members:
            _checked(info.name)
            if not (info.isfile() or info.isdir()):
                raise MetadataBuildError(f"the sdist has a link or special file: {info.name!r}")
        if sum(i.size for i in members) > _MAX_UNPACKED_BYTES:
            raise MetadataBuildError("the sdist unpacks to more than 2 GiB")
        if hasattr(tarfile, "data_filter"):
            archive.extractall(target, members, filter="data")
        else:  # pragma: no cover - Python < 3.10.12 / 3.11.4; the members are checked above
            archive.extractall(target, members)


def _unpack(data: bytes, filename: str, target: Path) -> Path:
    """Unpack an sdist (tar, any compression, or zip) into `target`; its project directory.

    Members that would land outside `target`, links, devices and oversized archives are
    refused rather than skipped: an sdist like that is not one to run a build from."""
    try:
        if filename.lower().endswith(".zip"):
            _extract_zip(data, target)
        else:
            _extract_tar(data, target)
    except MetadataBuildError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise MetadataBuildError(f"not a readable sdist archive: {exc}") from exc
    entries = list(target.iterdir()) if target.is_dir() else []
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    if (target / "pyproject.toml").is_file() or (target / "setup.py").is_file():
        return target
    raise MetadataBuildError("the sdist has no single top-level project directory")


def _last_line(text: str | bytes | None) -> str:
    """The last non-empty line of captured output (an exception's own line, usually)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


class MetadataBuilder:
    """Builds the core metadata of sdists, and caches it by the sdist's SHA-256.

    `cache_dir` is the HTTP cache's directory (None: no cache); `environ` the environment of
    build subprocesses (default `build_environ()`); `timeout` the seconds one build may take,
    isolated environment included. Thread-safe; at most `parallel` builds run at once, and
    one sdist is built once even when several threads ask for it.
    """

    def __init__(self, cache_dir: str | Path | None, *, environ: Mapping[str, str] | None = None,
                 timeout: float = 600.0, parallel: int = 2) -> None:
        self.directory = Path(cache_dir) / BUILD_CACHE_FORMAT if cache_dir is not None else None
        self.environ = dict(environ) if environ is not None else build_environ()
        self.timeout = timeout
        self.builds = 0
        """Builds started (cache hits excluded)."""
        self._slots = threading.BoundedSemaphore(max(1, parallel))
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    # -- cache ----------------------------------------------------------------------------
    def _entry(self, sha256: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / sha256[:2] / f"{sha256}.metadata"

    def cached(self, sha256: str) -> CoreMetadata | None:
        """The metadata built before for the sdist with this SHA-256, if the cache has it."""
        entry = self._entry(sha256.lower())
        if entry is None:
            return None
        try:
            return parse_core_metadata(entry.read_bytes())
        except (OSError, DistFileError):
            return None  # absent, or unreadable: build again (and replace it)

    def _store(self, sha256: str, raw: bytes) -> None:
        """Write an entry atomically; a cache that cannot be written only costs a rebuild."""
        entry = self._entry(sha256)
        if entry is None:
            return
        tmp: str | None = None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=f".{entry.name}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
            os.replace(tmp, entry)
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    # -- building -------------------------------------------------------------------------
    def metadata(self, data: bytes, filename: str,
                 progress: ProgressCallback = no_progress) -> CoreMetadata:
        """The core metadata of the sdist `data` (named `filename`): from the cache, else built.

        Raises `MetadataBuildError` with a one-line cause. `progress` hears of real builds."""
        sha256 = hashlib.sha256(data).hexdigest()
        with self._lock:
            key_lock = self._key_locks.setdefault(sha256, threading.Lock())
        with key_lock:
            found = self.cached(sha256)
            if found is not None:
                return found
            progress(FetchEvent(FetchKind.BUILD, False, filename))
            try:
                with self._slots:
                    with self._lock:
                        self.builds += 1
                    raw = self._build(data, filename)
            finally:
                progress(FetchEvent(FetchKind.BUILD, True, filename))
            try:
                metadata = parse_core_metadata(raw)
            except DistFileError as exc:
                raise MetadataBuildError(f"the backend wrote unreadable metadata: {exc}") from exc
            self._store(sha256, raw)
            return metadata

    def _build(self, data: bytes, filename: str) -> bytes:
        """Unpack and ask the backend; the METADATA file's bytes."""
        with tempfile.TemporaryDirectory(prefix="depsat-build-") as scratch:
            return self._build_tree(_unpack(data, filename, Path(scratch) / "source"),
                                    Path(scratch) / "metadata")

    def project_metadata(self, source: Path,
                         progress: ProgressCallback = no_progress) -> CoreMetadata:
        """The core metadata of the project whose source tree is `source`, built in place
        (as pip and uv build a local project), not cached: the tree is not a published file
        with a hash, and can change between two runs. Raises `MetadataBuildError`."""
        progress(FetchEvent(FetchKind.BUILD, False, str(source)))
        try:
            with self._slots:
                with self._lock:
                    self.builds += 1
                with tempfile.TemporaryDirectory(prefix="depsat-build-") as scratch:
                    raw = self._build_tree(source, Path(scratch) / "metadata")
        finally:
            progress(FetchEvent(FetchKind.BUILD, True, str(source)))
        try:
            return parse_core_metadata(raw)
        except DistFileError as exc:
            raise MetadataBuildError(f"the backend wrote unreadable metadata: {exc}") from exc

    def _build_tree(self, source: Path, output: Path) -> bytes:
        """Ask the backend of the tree at `source` for its metadata, written under `output`;
        the METADATA file's bytes."""
        try:
            from build import BuildBackendException, BuildException, FailedProcessError
            from pyproject_hooks import BuildBackendWarning
        except ImportError:
            raise MetadataBuildError("building metadata needs the 'build' package, which is "
                                     "not installed") from None
        # pyproject_hooks raises a backend's warnings again in this process (setuptools' deprecation
        # notices, one per build): they are the backend's output, which is never printed.
        # (`catch_warnings` is not thread-safe, and builds run on the fetch pool's threads.)
        warnings.filterwarnings("ignore", category=BuildBackendWarning)
        deadline = time.monotonic() + self.timeout
        try:
            builder = self._project(source, deadline)
            if self._needs_isolation(builder):
                from build.env import DefaultIsolatedEnv

                with DefaultIsolatedEnv() as env:
                    isolated = self._project(source, deadline, env)
                    self._install(env, isolated.build_system_requires, deadline)
                    self._install(env, isolated.get_requires_for_build("wheel"), deadline)
                    directory = isolated.metadata_path(output)
            else:
                directory = builder.metadata_path(output)
            return (Path(directory) / "METADATA").read_bytes()
        except BuildBackendException as exc:
            raise MetadataBuildError(self._backend_cause(exc)) from None
        except _Timeout:
            raise MetadataBuildError(f"the build took longer than {self.timeout:g} s") from None
        except subprocess.CalledProcessError as exc:
            cause = _last_line(exc.stderr) or _last_line(exc.stdout)
            raise MetadataBuildError(
                f"installing the build requirements failed: {cause or 'see pip'}") from None
        except (BuildException, FailedProcessError, OSError, ValueError,
                RuntimeError) as exc:
            # a bad [build-system] table, no pyproject.toml or setup.py, no venv
            raise MetadataBuildError(str(exc).splitlines()[0] if str(exc)
                                     else type(exc).__name__) from None

    def _backend_cause(self, exc: Exception) -> str:
        """One line from what `build` wraps: the backend's own last words when it crashed."""
        inner = getattr(exc, "exception", None)
        if isinstance(inner, _Timeout):
            return f"the build took longer than {self.timeout:g} s"
        if isinstance(inner, subprocess.CalledProcessError):
            cause = _last_line(inner.stderr) or _last_line(inner.stdout)
            return (f"the backend failed: {cause}" if cause
                    else f"the backend failed (exit status {inner.returncode})")
        line = str(exc).splitlines()[0].rstrip(".") if str(exc) else type(exc).__name__
        return line[:1].lower() + line[1:]  # "backend 'x' is not available"

    def _project(self, source: Path, deadline: float,
                 env: DefaultIsolatedEnv | None = None) -> ProjectBuilder:
        from build import ProjectBuilder

        def runner(cmd: Sequence[str], cwd: str | None = None,
                   extra_environ: Mapping[str, str] | None = None) -> None:
            extra = dict(env.make_extra_environ() or {}) if env is not None else {}
            self._run(cmd, cwd, {**extra, **(extra_environ or {})}, deadline)

        python = env.python_executable if env is not None else sys.executable
        return ProjectBuilder(source, python_executable=python, runner=runner)

    @staticmethod
    def _needs_isolation(builder: ProjectBuilder) -> bool:
        """Whether a build requirement is missing here (static ones checked first, so the
        backend is not started where it cannot even be imported)."""
        from build import check_dependency

        if any(next(iter(check_dependency(r)), None) for r in builder.build_system_requires):
            return True
        return bool(builder.check_dependencies("wheel"))

    def _install(self, env: DefaultIsolatedEnv, requirements: Collection[str],
                 deadline: float) -> None:
        """pip-install into the isolated environment with our environment (not build's
        `install`, which would pass pip this machine's configuration)."""
        if not requirements:
            return
        root = Path(env.path)
        has_pip = any(root.glob("lib*/python*/site-packages/pip")) or (
            root / "Lib" / "site-packages" / "pip").is_dir()
        pip = ([env.python_executable, "-Im", "pip"] if has_pip
               else [sys.executable, "-m", "pip", "--python", env.python_executable])
        requirements_file = root / "depsat-build-requirements.txt"
        requirements_file.write_text("\n".join(sorted(requirements)) + "\n", encoding="utf-8")
        self._run([*pip, "install", "--no-warn-script-location", "--no-compile",
                   "-r", str(requirements_file)], None, {}, deadline)

    def _run(self, cmd: Sequence[str], cwd: str | None, extra: Mapping[str, str],
             deadline: float) -> None:
        """One build subprocess, output captured, killed (with its children) at the deadline."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout
        posix = os.name == "posix"
        with subprocess.Popen(list(cmd), cwd=cwd, env={**self.environ, **extra},
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=posix) as process:
            try:
                out, err = process.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                if posix:
                    with contextlib.suppress(OSError):
                        os.killpg(process.pid, signal.SIGKILL)
                process.kill()
                process.communicate()
                raise _Timeout from None
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, list(cmd), out, err)
