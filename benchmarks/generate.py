"""A seeded generator of layered random package universes, in depsat's universe-file format.

Packages sit in layers; every version of a package in layer L depends on 0..k packages of
lower layers (mostly the next few layers down, with a bias towards a few popular "hub"
packages per layer, as real ecosystems have). Consecutive versions of a package mostly keep
their dependencies, and newer versions ask for newer versions of them, so "newest of
everything" is often, but not always, consistent.

The **conflict knob** (0..1) is the fraction of dependencies that are narrow pins
(``==x`` or a two-version window, usually not the newest) instead of loose lower bounds:
two packages pinning a hub differently force backtracking. It also breaks the newest
release of a fraction ``conflict / 4`` of the packages (a dependency nothing satisfies), so
a resolver that trusts "newest first" must go back.

Extras (``pkg[speed]``) and environment markers (true and false under Python 3.12) are
optional knobs. Output is a dict that `depsat.sources.universe_file.parse_universe` reads,
plus the root requirements (plain names from the top layer) under ``root.requires``;
``write_universe`` stores it as JSON or TOML. The same seed and configuration always give
the same universe, byte for byte.

    .venv/bin/python -m benchmarks.generate --packages 1000 --versions 10 --conflict 0.2 \\
        --seed 1 -o /tmp/u.json
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["GeneratorConfig", "generate", "parse_sizes", "universe_name", "write_universe"]

EXTRA = "speed"
TRUE_MARKER = "python_version >= '3.8'"
FALSE_MARKER = "python_version < '3.0'"


@dataclass(frozen=True)
class GeneratorConfig:
    """Everything that shapes a universe; with the seed it determines the universe."""

    packages: int = 200
    versions: int = 10
    conflict: float = 0.0
    seed: int = 1
    max_deps: int = 4
    """k: each version depends on 0..k packages of lower layers."""
    roots: int = 10
    """Root requirements, drawn from the top layer (5-20 is typical)."""
    layers: int = 0
    """0: about log2(packages), between 3 and 12."""
    extras: float = 0.05
    """Fraction of packages that provide the extra ``speed``, and of dependencies asking
    for it on a package that has it."""
    markers: float = 0.05
    """Fraction of dependencies carrying an environment marker (half true, half false)."""
    python: str = "3.12"

    def layer_count(self) -> int:
        if self.layers:
            return max(2, min(self.layers, self.packages))
        return max(3, min(12, int(math.log2(max(self.packages, 2)))))


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"1000x10,3000x20"`` as (packages, versions) pairs; versions default to 10. Shared by
    every benchmark's ``--sizes``."""
    sizes = []
    for item in text.split(","):
        packages, _, versions = item.strip().lower().partition("x")
        sizes.append((int(packages), int(versions or 10)))
    return sizes


def universe_name(config: GeneratorConfig) -> str:
    return (f"gen-{config.packages}x{config.versions}-c{config.conflict:g}"
            f"-s{config.seed}")


def _version_strings(rng: random.Random, count: int) -> list[str]:
    """`count` increasing PEP 440 versions with realistic variety (1.9 < 1.10, post releases,
    two- and three-part releases), oldest first."""
    major, minor, patch = rng.choice([(0, 1, 0), (1, 0, 0), (2, 3, 0)])
    out: list[str] = []
    for i in range(count):
        if i:
            roll = rng.random()
            if roll < 0.06 and not out[-1].count(".post"):
                out.append(f"{out[-1]}.post1")
                continue
            if roll < 0.6:
                patch += 1
            elif roll < 0.92:
                minor, patch = minor + 1, 0
            else:
                major, minor, patch = major + 1, 0, 0
        out.append(f"{major}.{minor}" if patch == 0 and rng.random() < 0.5
                   else f"{major}.{minor}.{patch}")
    return out


class _Generator:
    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.rng = random.Random(f"depsat-bench:{config.seed}:{config.packages}:"
                                 f"{config.versions}:{config.conflict}")
        layer_count = config.layer_count()
        width = len(str(config.packages - 1))
        self.layers: list[list[str]] = [[] for _ in range(layer_count)]
        for i in range(config.packages):
            # Layer sizes are equal; layer 0 holds leaves, the last layer the roots' candidates.
            self.layers[i * layer_count // config.packages].append(f"pkg-{i:0{width}d}")
        self.layer_of = {name: li for li, names in enumerate(self.layers) for name in names}
        self.versions = {name: _version_strings(self.rng, config.versions)
                         for names in self.layers for name in names}
        self.has_extra = {name: self.layer_of[name] > 0 and self.rng.random() < config.extras
                          for name in self.layer_of}

    def _pick_dependency_pool(self, name: str) -> list[str]:
        """The packages `name` may depend on across its history (at most k + 2)."""
        layer = self.layer_of[name]
        if layer == 0:
            return []
        pool: list[str] = []
        for _ in range(self.config.max_deps + 2):
            # Mostly the next layer down, sometimes deeper (geometric).
            depth = 1
            while depth < layer and self.rng.random() < 0.35:
                depth += 1
            candidates = self.layers[layer - depth]
            # Popular packages: quadratic bias towards the front of each layer.
            index = int(len(candidates) * self.rng.random() ** 2)
            choice = candidates[min(index, len(candidates) - 1)]
            if choice not in pool:
                pool.append(choice)
        return pool

    def _specifier(self, target: str, progress: float) -> str:
        """A specifier on `target` for a dependent version at `progress` (0 oldest, 1 newest)."""
        rng = self.rng
        versions = self.versions[target]
        n = len(versions)
        if rng.random() < self.config.conflict:
            z = rng.randrange(n)
            if rng.random() < 0.5 or z + 1 >= n:
                return f"=={versions[z]}"
            return f">={versions[z]},<={versions[z + 1]}"
        lo = int(progress * (n - 1) * rng.uniform(0.2, 0.8))
        roll = rng.random()
        if roll < 0.25:
            return ""
        if roll < 0.65:
            return f">={versions[lo]}"
        if roll < 0.72:
            return f">{versions[max(lo - 1, 0)]}" if lo else ""
        if roll < 0.85 and lo + 1 < n:
            hi = rng.randint(lo + 1, n - 1)
            return f">={versions[lo]},<{versions[hi]}"
        if roll < 0.92 and n > 2:
            return f"<={versions[rng.randint(n // 2, n - 1)]}"
        return f"!={versions[rng.randrange(n)]}" if n > 1 else ""

    def _requirement(self, target: str, progress: float, extra_ok: bool) -> str:
        spec = self._specifier(target, progress)
        extra = (f"[{EXTRA}]" if extra_ok and self.has_extra[target]
                 and self.rng.random() < self.config.extras else "")
        marker = ""
        if self.rng.random() < self.config.markers:
            marker = f" ; {TRUE_MARKER if self.rng.random() < 0.5 else FALSE_MARKER}"
        return f"{target}{extra}{spec}{marker}"

    def package(self, name: str) -> dict[str, Any]:
        rng = self.rng
        config = self.config
        pool = self._pick_dependency_pool(name)
        versions = self.versions[name]
        n = len(versions)
        broken_newest = bool(pool) and rng.random() < config.conflict / 4
        current: list[str] = []
        if pool:
            current = rng.sample(pool, rng.randint(0, min(config.max_deps, len(pool))))
        extra_from = rng.randrange(n) if self.has_extra[name] else n
        extra_deps = [d for d in pool if d not in current][:rng.randint(1, 2)]
        out: dict[str, Any] = {}
        for i, version in enumerate(versions):
            progress = i / (n - 1) if n > 1 else 1.0
            if i and pool and rng.random() < 0.2:
                # Dependencies drift a little from one release to the next.
                if current and rng.random() < 0.5:
                    dropped = rng.choice(current)
                    current = [d for d in current if d != dropped]
                elif len(current) < config.max_deps:
                    new = rng.choice(pool)
                    if new not in current:
                        current = [*current, new]
            requires = [self._requirement(dep, progress, True) for dep in current]
            if broken_newest and i == n - 1:
                target = rng.choice(pool)
                requires.append(f"{target}>{self.versions[target][-1]}")
            meta: dict[str, Any] = {"requires": requires}
            if i >= extra_from and extra_deps:
                meta["extras"] = {EXTRA: [self._requirement(dep, progress, False)
                                          for dep in extra_deps]}
            out[version] = meta
        return {"versions": out}

    def run(self) -> dict[str, Any]:
        packages = {name: self.package(name) for names in self.layers for name in names}
        top = self.layers[-1]
        roots = self.rng.sample(top, min(self.config.roots, len(top)))
        return {
            "name": universe_name(self.config),
            "root": {"requires": sorted(roots)},
            "environment": {"python": self.config.python},
            "packages": packages,
            "benchmark": asdict(self.config),
        }


def generate(config: GeneratorConfig) -> dict[str, Any]:
    """A universe (packse/depsat universe-file data) with its root requirements."""
    if config.packages < 1 or config.versions < 1:
        raise ValueError("a universe needs at least one package and one version")
    return _Generator(config).run()


def write_universe(data: dict[str, Any], path: Path) -> Path:
    """Write `data` as JSON (``.json``) or TOML (``.toml``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".toml":
        path.write_text(_to_toml(data), encoding="utf-8")
    else:
        path.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _to_toml(data: dict[str, Any]) -> str:
    lines = [f"name = {_toml_value(data['name'])}", ""]
    for table in ("root", "environment", "benchmark"):
        lines.append(f"[{table}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in data[table].items())
        lines.append("")
    for name, package in data["packages"].items():
        for version, meta in package["versions"].items():
            lines.append(f"[packages.{json.dumps(name)}.versions.{json.dumps(version)}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in meta.items())
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--packages", type=int, default=200)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--conflict", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-deps", type=int, default=4)
    parser.add_argument("--roots", type=int, default=10)
    parser.add_argument("--extras", type=float, default=0.05)
    parser.add_argument("--markers", type=float, default=0.05)
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="where to write the universe (.json or .toml)")
    args = parser.parse_args(argv)
    config = GeneratorConfig(packages=args.packages, versions=args.versions,
                             conflict=args.conflict, seed=args.seed, max_deps=args.max_deps,
                             roots=args.roots, extras=args.extras, markers=args.markers)
    write_universe(generate(config), args.output)
    print(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
