"""An installed environment as an ordered stack of layers, learned from a real interpreter.

The interpreter is *asked*, never guessed at: depsat runs it once as a subprocess with a small
script that imports only the standard library (`sys`, `site`, `sysconfig`, `os`, `platform`,
`json`) and, when the target has it, `packaging` for its own wheel tags. Site processing runs as
it normally does in that interpreter, so `.pth` files have shaped `sys.path` exactly as they
will when the user's programs run. Nothing depsat reads later is imported or executed.

Layers follow import precedence (`sys.path` order of their directories): a distribution in a
layer with a smaller index shadows the same name in a later one, as `import` and
`importlib.metadata` do. In the common cases that is the target venv, then (for a
`--system-site-packages` venv) the user site, then the base's site-packages. PYTHONPATH entries
come *before* the venv in `sys.path`, and so come before it here too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence

import attrs
from packaging import tags as _tags
from packaging.tags import Tag
from packaging.version import InvalidVersion, Version

from depsat.errors import SourceError
from depsat.model import Diagnostic
from depsat.sources.stamps import ReadLog, read_file, read_listing, writable
from depsat.target import Target

__all__ = [
    "Environment",
    "InterpreterInfo",
    "Layer",
    "inspect_interpreter",
    "pth_entries",
]

_TIMEOUT_SECONDS = 60.0
_MARKER = "@@depsat-introspection@@"

# Runs inside the target interpreter. It must work on any Python 3 still in use (3.6+: no
# walrus, no f-string `=`), import nothing outside the standard library except `packaging`
# (optional, and only for wheel tags and markers), and print one JSON document.
_INTROSPECT = r"""
import json, os, platform, site, sys, sysconfig

def full_version(info):
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version

def markers():
    # A copy of packaging.markers.default_environment (PEP 508), for targets without packaging.
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }

def pyvenv_cfg():
    for directory in (os.path.dirname(sys.executable),
                      os.path.dirname(os.path.dirname(sys.executable)), sys.prefix):
        candidate = os.path.join(directory, "pyvenv.cfg")
        if os.path.isfile(candidate):
            values = {}
            with open(candidate, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    key, sep, value = line.partition("=")
                    if sep:
                        values[key.strip().lower()] = value.strip()
            return candidate, values
    return None, {}

def musl_version():
    import glob, re, subprocess
    for loader in sorted(glob.glob("/lib/ld-musl-*.so.1")):
        try:
            out = subprocess.run([loader], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 timeout=10).stderr.decode("utf-8", "replace")
        except Exception:
            continue
        found = re.search(r"Version (\d+)\.(\d+)", out)
        if found:
            return [int(found.group(1)), int(found.group(2))]
    return None

MARKER = "@@depsat-introspection@@"
path = list(sys.path)
if path and path[0] == "" and not getattr(sys.flags, "safe_path", False):
    path = path[1:]  # the "-c" entry (the current directory), not part of the environment
cfg_path, cfg = pyvenv_cfg()
result = {
    "executable": sys.executable,
    "version": platform.python_version(),
    "version_info": list(sys.version_info[:3]),
    "implementation": sys.implementation.name,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "real_prefix": getattr(sys, "real_prefix", None),
    "sys_path": path,
    "site_packages": list(site.getsitepackages()) if hasattr(site, "getsitepackages") else [],
    "enable_user_site": bool(site.ENABLE_USER_SITE),
    "user_site": site.getusersitepackages() if hasattr(site, "getusersitepackages") else None,
    "purelib": sysconfig.get_paths().get("purelib"),
    "platlib": sysconfig.get_paths().get("platlib"),
    "pyvenv_cfg": cfg_path,
    "include_system_site_packages": cfg.get("include-system-site-packages", "").lower() == "true",
    "platform": sysconfig.get_platform(),
    "soabi": sysconfig.get_config_var("SOABI"),
    "py_debug": bool(sysconfig.get_config_var("Py_DEBUG")),
    "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "is_32bit": sys.maxsize <= 2 ** 32,
    "mac_ver": platform.mac_ver()[0] if sys.platform == "darwin" else "",
    "glibc": None,
    "musl": None,
    "tags": None,
    "markers": None,
}
try:
    result["glibc"] = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, OSError, ValueError):
    pass
if sys.platform.startswith("linux") and not result["glibc"]:
    result["musl"] = musl_version()
try:
    from packaging import tags as _tags
    result["tags"] = [str(tag) for tag in _tags.sys_tags()]
except Exception:
    pass
try:
    from packaging.markers import default_environment
    result["markers"] = dict(default_environment())
except Exception:
    result["markers"] = markers()
sys.stdout.write("\n" + MARKER + json.dumps(result))
"""


@attrs.frozen(slots=True)
class Layer:
    """One directory of installed distributions, in import-precedence order.

    `search_path` lists the `sys.path` entries the layer covers, in import order: its own
    directory and the eggs and directories inside it that its `.pth` files list
    (`easy-install.pth`). Empty means just `path`.
    """

    name: str
    path: str
    index: int
    read_only: bool
    search_path: tuple[str, ...] = ()

    @property
    def entries(self) -> tuple[str, ...]:
        """The `sys.path` entries to search, in import order."""
        return self.search_path or (self.path,)


@attrs.frozen(slots=True)
class InterpreterInfo:
    """What the target interpreter reported about itself (the raw answer, parsed)."""

    executable: str
    version: Version
    implementation: str
    prefix: str
    base_prefix: str
    is_venv: bool
    include_system_site_packages: bool
    sys_path: tuple[str, ...]
    site_packages: tuple[str, ...]
    enable_user_site: bool
    user_site: str | None
    purelib: str | None
    markers: Mapping[str, str] = attrs.field(eq=False, hash=False)
    tags: tuple[Tag, ...]
    tags_from_interpreter: bool
    """False when the target has no `packaging` and depsat computed its tags itself."""


@attrs.frozen(slots=True)
class Environment:
    """An ordered stack of layers plus what a resolution for it needs to know.

    `python_version`, `markers` and `tags` are None/empty when the layers were given as bare
    paths and no interpreter was asked.
    """

    layers: tuple[Layer, ...]
    python_version: Version | None = None
    markers: Mapping[str, str] | None = attrs.field(default=None, eq=False, hash=False)
    tags: tuple[Tag, ...] = ()
    interpreter: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def target_layer(self) -> Layer | None:
        """The layer installs go to: the first writable one."""
        return next((layer for layer in self.layers if not layer.read_only), None)

    def target(self) -> Target | None:
        """The resolution target this environment describes, when an interpreter was asked."""
        if self.python_version is None or self.markers is None:
            return None
        return Target(
            python_version=self.python_version,
            markers=dict(self.markers),
            tags=self.tags or None,
        )

    @classmethod
    def from_interpreter(
        cls, python: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None,
        read_log: ReadLog | None = None,
    ) -> Environment:
        """Ask `python` (default: the running interpreter) for its layers, markers and tags.

        `env` is the subprocess environment (default: inherited, so PYTHONPATH and
        PYTHONUSERBASE count as they would for the user's own programs). `read_log` hears
        the interpreter's answer and what is read to find the layers.
        """
        # Most venvs have no `packaging`; then `info.tags` were computed by depsat with the
        # same rules (tests check they equal packaging.tags.sys_tags()), so no warning.
        info = inspect_interpreter(python, env=env, read_log=read_log)
        return cls(
            layers=layers_from_interpreter(info, read_log),
            python_version=info.version,
            markers=info.markers,
            tags=info.tags,
            interpreter=info.executable,
        )

    @classmethod
    def from_paths(
        cls,
        paths: Sequence[str | os.PathLike[str]],
        *,
        names: Sequence[str] | None = None,
        python: str | os.PathLike[str] | None = None,
        read_log: ReadLog | None = None,
    ) -> Environment:
        """Layers given explicitly, top (target) first, for environments that cannot be run.

        The top layer is writable if the current user can write to it; the others are
        read-only. With `python`, markers and tags come from that interpreter. `read_log`
        hears what is read.
        """
        if names is not None and len(names) != len(paths):
            raise ValueError("names and paths differ in length")
        plain = [os.path.abspath(os.fspath(p)) for p in paths]
        layer_names = list(names) if names is not None else [f"layer{i}" for i in range(len(plain))]
        layers: list[Layer] = []
        for position, (name, path) in enumerate(zip(layer_names, plain, strict=True)):
            read_only = position > 0 or not _writable(path, read_log)
            inside, outside = _split_pth_entries(path, read_log)
            search_path = (path, *inside) if inside else ()
            layers.append(Layer(name, path, len(layers), read_only, search_path))
            layers.extend(
                Layer(f"path:{entry}", entry, len(layers) + offset, True)
                for offset, entry in enumerate(outside)
                if _holds_distributions(entry, read_log)
            )
        layers = _dedupe_layers(layers)
        if python is None:
            return cls(layers=tuple(layers))
        info = inspect_interpreter(python, read_log=read_log)
        return cls(
            layers=tuple(layers),
            python_version=info.version,
            markers=info.markers,
            tags=info.tags,
            interpreter=info.executable,
        )


def inspect_interpreter(
    python: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None,
    read_log: ReadLog | None = None,
) -> InterpreterInfo:
    """Run `python` once and parse what it reports. Any failure is a `SourceError` naming it.

    The answer goes into `read_log` (a later run asks again and compares) with the
    environment it was asked in: only the inherited one (`env` None) can be asked again."""
    executable = os.fspath(python) if python is not None else sys.executable
    try:
        completed = subprocess.run(
            [executable, "-c", _INTROSPECT],
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SourceError("no such interpreter", executable) from exc
    except PermissionError as exc:
        raise SourceError("interpreter is not executable", executable) from exc
    except subprocess.TimeoutExpired as exc:
        raise SourceError(
            f"interpreter did not answer within {_TIMEOUT_SECONDS:.0f} s", executable
        ) from exc
    except OSError as exc:
        raise SourceError(f"cannot run interpreter: {exc.strerror or exc}", executable) from exc
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {completed.returncode}"
        raise SourceError(f"interpreter failed to describe itself: {detail}", executable)
    if read_log is not None:
        if env is None:
            read_log.interpreter(executable, _INTROSPECT, completed.stdout)
        else:
            read_log.unrepeatable(f"{executable} asked in an environment of its own")
    # sitecustomize or a .pth file may print too: the answer is what follows the last marker.
    _before, _marker, answer = completed.stdout.decode("utf-8", "replace").rpartition(_MARKER)
    try:
        data = json.loads(answer)
        return _parse_info(data)
    except (ValueError, KeyError, TypeError, InvalidVersion) as exc:
        raise SourceError(f"interpreter gave an unreadable answer: {exc}", executable) from exc


def _parse_info(data: dict[str, object]) -> InterpreterInfo:
    def text(key: str) -> str:
        value = data[key]
        if not isinstance(value, str):
            raise TypeError(f"{key} is not a string")
        return value

    def optional_text(key: str) -> str | None:
        value = data.get(key)
        return value if isinstance(value, str) else None

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if not isinstance(value, list):
            raise TypeError(f"{key} is not a list")
        return tuple(str(v) for v in value)

    raw_markers = data.get("markers")
    if not isinstance(raw_markers, dict):
        raise TypeError("markers is not a mapping")
    markers = {str(k): str(v) for k, v in raw_markers.items()}
    version = Version(text("version"))
    raw_tags = data.get("tags")
    if isinstance(raw_tags, list) and raw_tags:
        tags = tuple(tag for entry in raw_tags for tag in _tags.parse_tag(str(entry)))
        from_interpreter = True
    else:
        tags = _compute_tags(data, version)
        from_interpreter = False
    prefix = text("prefix")
    base_prefix = text("base_prefix")
    real_prefix = optional_text("real_prefix")
    return InterpreterInfo(
        executable=text("executable"),
        version=version,
        implementation=text("implementation"),
        prefix=prefix,
        base_prefix=real_prefix or base_prefix,
        is_venv=bool(real_prefix) or os.path.realpath(prefix) != os.path.realpath(base_prefix),
        include_system_site_packages=bool(data.get("include_system_site_packages"))
        or bool(real_prefix),
        sys_path=strings("sys_path"),
        site_packages=strings("site_packages"),
        enable_user_site=bool(data.get("enable_user_site")),
        user_site=optional_text("user_site"),
        purelib=optional_text("purelib"),
        markers=markers,
        tags=tags,
        tags_from_interpreter=from_interpreter,
    )


def _compute_tags(data: Mapping[str, object], version: Version) -> tuple[Tag, ...]:
    """Wheel tags for a target without `packaging`, from what it reported about itself.

    `packaging.tags` computes platforms only for the running process, so the platform list is
    built here (manylinux as packaging's `_manylinux` does, from the target's glibc version);
    packaging still orders interpreter and ABI tags.
    """
    python_version = (version.major, version.minor)
    implementation = str(data.get("implementation", "cpython"))
    platforms = list(_platforms(data))
    if implementation == "cpython":
        abi = f"cp{version.major}{version.minor}"
        if data.get("gil_disabled"):
            abi += "t"
        if data.get("py_debug"):
            abi += "d"
        tags = list(_tags.cpython_tags(python_version, [abi], platforms))
        interpreter = f"cp{version.major}{version.minor}"
    else:
        short = {"pypy": "pp", "ironpython": "ip", "jython": "jy"}.get(
            implementation, implementation
        )
        soabi = data.get("soabi")
        abis = [str(soabi).split("-")[0].replace(".", "_")] if soabi else []
        interpreter = f"{short}{version.major}{version.minor}"
        tags = list(_tags.generic_tags(interpreter, abis, platforms))
    tags.extend(_tags.compatible_tags(python_version, interpreter, platforms))
    return tuple(tags)


def _platforms(data: Mapping[str, object]) -> Iterable[str]:
    platform = str(data.get("platform", "")).replace("-", "_").replace(".", "_").replace(" ", "_")
    if platform.startswith("linux_"):
        # As packaging (>= 24) orders them: linux_<arch> first, then manylinux, then musllinux.
        arch = platform[len("linux_") :]
        if data.get("is_32bit"):
            arch = {"x86_64": "i686", "aarch64": "armv8l"}.get(arch, arch)
        archs = ["armv8l", "armv7l"] if arch == "armv8l" else [arch]
        yield from (f"linux_{a}" for a in archs)
        glibc = str(data.get("glibc") or "")
        musl = data.get("musl")
        if glibc.startswith("glibc "):
            try:
                major, minor = (int(p) for p in glibc.split()[1].split(".")[:2])
            except ValueError:
                major = minor = 0
            if major == 2:
                legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
                for a in archs:
                    lowest = 5 if a in ("x86_64", "i686") else 17
                    for m in range(minor, lowest - 1, -1):
                        yield f"manylinux_2_{m}_{a}"
                        if m in legacy and (m == 17 or a in ("x86_64", "i686")):
                            yield f"{legacy[m]}_{a}"
        elif isinstance(musl, list) and len(musl) == 2:
            for a in archs:
                for m in range(int(musl[1]), -1, -1):
                    yield f"musllinux_{int(musl[0])}_{m}_{a}"
    elif platform.startswith("macosx_"):
        mac_ver = str(data.get("mac_ver") or "")
        parts = platform.split("_")
        arch = "_".join(parts[3:]) if len(parts) > 3 else "x86_64"
        try:
            numbers = [int(p) for p in (mac_ver or f"{parts[1]}.{parts[2]}").split(".")[:2]]
            release = (numbers[0], numbers[1] if len(numbers) > 1 else 0)
        except (ValueError, IndexError):
            release = (10, 16)
        yield from _tags.mac_platforms(release, arch)
    else:
        yield platform


def pth_entries(directory: str, read_log: ReadLog | None = None) -> list[str]:
    """Existing paths the `.pth` files in `directory` add, as `site.addpackage` would.

    Read by hand because `site` would *execute* the `import` lines: those are skipped here.
    Files are taken in sorted order, as `site` does; unreadable ones are skipped (the layer
    reader reports unreadable files). `read_log` hears what is read.
    """
    try:
        listed = read_listing(directory, read_log)
    except OSError:
        return []
    names = sorted(n for n, _kind in listed if n.endswith(".pth"))
    entries: list[str] = []
    for name in names:
        if name.startswith("."):
            continue  # hidden .pth files are skipped by site since 3.13
        try:
            text = read_file(os.path.join(directory, name), read_log).decode("utf-8", "replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
                continue
            entry = os.path.normpath(os.path.join(directory, line))
            if read_log is not None:
                read_log.checked(entry)
            if entry not in entries and os.path.exists(entry):
                entries.append(entry)
    return entries


def _writable(path: str, read_log: ReadLog | None) -> bool:
    return read_log.writable(path) if read_log is not None else writable(path)


def _is_inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([_real(path), _real(directory)]) == _real(directory)
    except ValueError:
        return False


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _split_pth_entries(directory: str, read_log: ReadLog | None = None,
                       ) -> tuple[list[str], list[str]]:
    """`.pth` entries of a layer: those inside the layer's directory, and those elsewhere."""
    inside: list[str] = []
    outside: list[str] = []
    for entry in pth_entries(directory, read_log):
        (inside if _is_inside(entry, directory) else outside).append(entry)
    return inside, outside


_DIST_SUFFIXES = (".dist-info", ".egg-info", ".egg", ".egg-link")


def _holds_distributions(entry: str, read_log: ReadLog | None = None) -> bool:
    """Whether a `sys.path` entry could hold any distribution (cheap: one listing)."""
    if entry.lower().endswith(".egg"):
        if read_log is not None:
            read_log.checked(entry)
        return os.path.exists(entry)
    if os.path.isfile(entry):
        if read_log is not None:
            read_log.checked(entry)
        return zipfile.is_zipfile(entry)  # a zip on sys.path: the reader looks inside
    try:
        listed = read_listing(entry, read_log)
    except OSError:
        return False
    return any(name.lower().endswith(_DIST_SUFFIXES) for name, _kind in listed)


def _dedupe_layers(layers: list[Layer]) -> list[Layer]:
    """Drop later layers whose directory an earlier one already covers; renumber."""
    seen: set[str] = set()
    kept: list[Layer] = []
    for layer in layers:
        key = _real(layer.path)
        if key in seen:
            continue
        seen.add(key)
        seen.update(_real(p) for p in layer.entries)
        kept.append(attrs.evolve(layer, index=len(kept)))
    return kept


def layers_from_interpreter(info: InterpreterInfo,
                            read_log: ReadLog | None = None) -> tuple[Layer, ...]:
    """The layer stack in `sys.path` order, each site directory with the role it plays.

    Roles: "venv" (the venv's own site-packages, the target), "system" (the base installation's
    site-packages: visible from a venv with include-system-site-packages, read-only), "site"
    (a plain interpreter's own site-packages, the target), "user" (the user site), and
    "path:<dir>" for any other entry holding distributions (PYTHONPATH, `.pth` files).
    Only the target layer is writable, and only if the current user can write to it.
    """
    roles: dict[str, str] = {}
    for site_dir in info.site_packages:
        key = _real(site_dir)
        if info.is_venv and _is_inside(site_dir, info.prefix):
            roles.setdefault(key, "venv")
        elif info.is_venv:
            if info.include_system_site_packages:
                roles.setdefault(key, "system")
        else:
            roles.setdefault(key, "site")
    if info.enable_user_site and info.user_site:
        roles.setdefault(_real(info.user_site), "user")
    target_role = "venv" if info.is_venv else "site"

    # Entries a site directory's own .pth files add inside it (eggs) belong to its layer;
    # directories they add elsewhere (develop installs, source trees) become "path:" layers
    # right after it. Both wherever they ended up in sys.path: old easy-install.pth files
    # move their entries to the front with `import` lines, and a layer is still searched
    # where its directory sits (the eggs first, within the layer).
    owner: dict[str, str] = {}
    listed_by: dict[str, tuple[str, int]] = {}
    for key in roles:
        owner[key] = key
        inside, outside = _split_pth_entries(key, read_log)
        for entry in inside:
            owner.setdefault(_real(entry), key)
        for number, entry in enumerate(outside):
            listed_by.setdefault(_real(entry), (key, number))

    position: dict[str, tuple[int, int]] = {}  # layer key -> its place in the stack
    members: dict[str, list[str]] = {}
    paths: dict[str, str] = {}
    for index, entry in enumerate(info.sys_path):
        if not entry:
            continue
        entry = os.path.abspath(entry)
        owned = owner.get(_real(entry))
        if owned is None and _real(entry) not in members and not _holds_distributions(
                entry, read_log):
            continue
        key = owned if owned is not None else _real(entry)
        members.setdefault(key, [])
        if _real(entry) == key and key not in paths:
            paths[key] = entry
            position[key] = (index, -1)
        if entry not in members[key]:
            members[key].append(entry)
    for key, (site_key, number) in listed_by.items():
        if key in position and key not in roles and site_key in position:
            position[key] = (position[site_key][0], number)
    order = sorted(members, key=lambda k: position.get(k, (len(info.sys_path), 0)))

    role_count: dict[str, int] = {}
    layers: list[Layer] = []
    target_found = False
    for key in order:
        path = paths.get(key, key)
        role = roles.get(key)
        if role is None:
            name, read_only = f"path:{path}", True
        else:
            count = role_count.get(role, 0)
            role_count[role] = count + 1
            name = role if count == 0 else f"{role}:{path}"
            can_write = (role == target_role and not target_found
                         and _writable(path, read_log))
            target_found = target_found or role == target_role
            read_only = not can_write
        search_path = tuple(members[key])
        layers.append(
            Layer(name, path, len(layers), read_only, () if search_path == (path,) else search_path)
        )
    return tuple(layers)
