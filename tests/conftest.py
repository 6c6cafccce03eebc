"""Shared fixtures: where the shared corpora live, and a clean environment for subprocesses."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PACKSE = SHARED / "corpora" / "packse" / "scenarios"

# The `benchmarks` package sits at the repository root, beside `src/`: the tests of the
# benchmarks import it from there.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Filled by test_packse.py; printed at the end of the run.
PACKSE_COUNTS: dict[str, Counter[str]] = {}


# packse scenarios whose expectation predates uv 0.12, with what depsat answers instead. A
# requirement no final release meets (``b>0.1`` where b has 0.1.0 and 1.0.0a1; a transitive
# ``c==2.0.0b1``) takes a prerelease, as PEP 440 says ("accept remotely available
# pre-releases for version specifiers where there is no final or post release that satisfies
# the version specifier") and pip does. uv 0.13.9, each scenario served to `uv pip compile`,
# resolves all five to these same versions (`depsat.policy.prerelease_use`).
PRERELEASE_FALLBACK: dict[str, dict[str, str]] = {
    "package-only-prereleases-in-range": {"a": "1.0.0a1"},
    "transitive-package-only-prereleases-in-range": {"a": "0.1.0", "b": "1.0.0a1"},
    "transitive-prerelease-and-stable-dependency": {"a": "1.0.0", "b": "1.0.0",
                                                    "c": "2.0.0b1"},
    "transitive-prerelease-and-stable-dependency-many-versions": {"a": "1.0.0", "b": "1.0.0",
                                                                  "c": "2.0.0b9"},
    "transitive-prerelease-and-stable-dependency-many-versions-holes": {
        "a": "1.0.0", "b": "1.0.0", "c": "2.0.0b4"},
}


def expectation(world: Any) -> tuple[bool | None, dict[str, str]]:
    """A packse scenario's expected outcome for depsat: (satisfiable, versions)."""
    if world.name in PRERELEASE_FALLBACK:
        return True, PRERELEASE_FALLBACK[world.name]
    return world.expected_satisfiable, dict(world.expected_packages)


def assert_as_expected(result: Any, world: Any) -> None:
    """A packse scenario's expectation: satisfiability, verified plan, expected versions."""
    from depsat.verify import verify

    satisfiable, versions = expectation(world)
    assert result.ok == satisfiable, (
        result.failure.summary() if result.failure else result.plan)
    if result.plan is not None:
        assert verify(result.universe, result.plan.chosen,
                      {s.name: s.extras for s in result.plan.steps}) == []
        if versions:
            assert result.plan.versions() == versions
    else:
        assert result.failure is not None and result.failure.core


def assert_lock_holds(universal: Any, request: Any, sources: list[Any],
                      environment: dict[str, str]) -> Any:
    """A universal lock restricted to one environment (the pins whose markers hold there)
    passes the verifier for that environment, and installs nothing the environment does not
    need: exactly what the request's requirements that hold there reach, through the pins'
    own requirements that hold there. Returns the resolve for that environment alone."""
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    from depsat.api import resolve
    from depsat.target import Target
    from depsat.verify import verify

    pins = universal.pins_for(environment)
    alone = resolve(request, sources, Target(Version(environment["python_full_version"]),
                                             environment))
    assert alone.ok, f"no plan for {environment}, but a lock"
    assert verify(alone.universe, [p.candidate for p in pins],
                  {p.candidate.name: p.extras for p in pins}) == []
    by_name = {p.candidate.name: p.candidate for p in pins}
    reached: set[tuple[str, str]] = set()
    todo = [(r, "") for r in request.requirements]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate(
                {**environment, "extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        assert name in by_name, f"{requirement} holds in {environment}, no pin for it"
        for asked in ("", *(canonicalize_name(e) for e in requirement.extras)):
            if (name, asked) not in reached:
                reached.add((name, asked))
                todo += [(r, asked) for r in by_name[name].requires]
    assert {name for name, _ in reached} == set(by_name), environment
    return alone


def _is_proxy_variable(name: str) -> bool:
    return name.lower().endswith("_proxy")


@pytest.fixture(autouse=True, scope="session")
def _a_cache_of_their_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """depsat's default cache directory (platformdirs: under XDG_CACHE_HOME on Linux) is in
    the run's temporary directory: runs that give no ``--cache-dir`` (universe files,
    ``file://`` indexes) keep their hints and remembered resolutions there, not in the
    user's cache. Subprocesses inherit it."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(autouse=True)
def _no_proxies_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests reach their own servers on 127.0.0.1: a proxy set on the machine must not divert
    them (the proxy tests set their own)."""
    for name in [name for name in os.environ if _is_proxy_variable(name)]:
        monkeypatch.delenv(name)


def clean_env() -> dict[str, str]:
    """The environment for subprocesses: no pip/uv configuration or proxy leaks in from the
    machine."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_")) and not _is_proxy_variable(k)}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_NO_CONFIG"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def quick_client(tmp_path: Path, **options: Any) -> Any:
    """An `HttpClient` caching under `tmp_path` that gives up fast (tests of the wire expect
    failures, and a dead server must not cost seconds)."""
    from depsat.sources.http import HttpClient

    options.setdefault("timeout", 2.0)
    options.setdefault("retries", 1)
    options.setdefault("backoff", 0.01)
    return HttpClient(cache_dir=tmp_path / "cache", **options)


def _curl_installed() -> bool:
    try:
        import pycurl  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(params=[
    pytest.param("curl", marks=pytest.mark.skipif(not _curl_installed(),
                                                  reason="pycurl is not installed")),
    "urllib3",
])
def http_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once per HTTP transport (`depsat.sources._transport`): the clients it
    makes, in process or in a subprocess, use that one (through `DEPSAT_HTTP_TRANSPORT`)."""
    name: str = request.param
    monkeypatch.setenv("DEPSAT_HTTP_TRANSPORT", name)
    return name


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    return clean_env()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not PACKSE_COUNTS:
        return
    terminalreporter.write_sep("-", "packse conformance per folder")
    for folder in sorted(PACKSE_COUNTS):
        counts = PACKSE_COUNTS[folder]
        parts = ", ".join(f"{counts[k]} {k}" for k in ("passed", "failed", "xfailed") if counts[k])
        terminalreporter.write_line(f"{folder:24} {parts}")
