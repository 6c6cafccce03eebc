"""Git checkouts for direct references (``name @ git+https://host/repo@v1.0#subdirectory=x``).

pip and uv clone such a repository, take the revision asked for (a branch, a tag, a commit;
the remote's HEAD when none is given) and read the project in it; a lock file then pins the
commit the revision stood at (``name @ git+https://host/repo@<commit>``), as `pip freeze`
and `uv pip compile` write it. depsat does the same with the ``git`` program (no library
speaks git's protocols as well; running git is what pip and poetry do too):

* one bare repository per URL under the cache (``git-v1/db/<key>``), fetched into: only the
  revision asked for (a branch, else a tag, else every branch and tag to find a commit); a
  full commit already there is not fetched again, since it cannot change;
* one tree per commit (``git-v1/checkouts/<key>/<commit>``), written with git's own
  ``read-tree``/``checkout-index`` into a temporary directory and renamed into place: a tree
  is there whole or not at all, and is never written again.

Only git: ``hg+``, ``svn+`` and ``bzr+`` references are refused with a message saying so.
Git never prompts (``GIT_TERMINAL_PROMPT=0``, ssh in batch mode, no input: credentials come
from the URL, git's own helpers or ssh's agent), a revision that could not name a ref is
refused before git sees it, and only the transports named in `_TRANSPORTS` are allowed, so
a URL cannot start one of git's remote helpers (``ext::``). Submodules are not checked out.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import attrs

__all__ = [
    "GitCheckouts",
    "VcsError",
    "VcsReference",
    "commit_identity",
    "egg_name",
    "is_vcs_url",
    "parse_vcs_url",
]

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_TRANSPORTS = ("https", "http", "ssh", "file", "git")
_FULL_COMMIT = re.compile(r"[0-9a-f]{40}")
_HEX = re.compile(r"[0-9a-f]{4,40}")
_NOT_IN_A_NAME = re.compile(r"[\s~^:?*\[\\]|\.\.|@\{")
"""What git's ref names may not hold (`git check-ref-format`); refused before a revision goes
into a refspec or a rev-parse argument."""
_GIT_SECONDS = 600.0
"""A limit on one git command: a clone of a large repository over a slow link takes minutes,
a hung server should not hold the resolve forever."""
CHECKOUTS_FORMAT = "git-v1"
"""The cache's subdirectory for repositories and trees."""


class VcsError(Exception):
    """A VCS reference that cannot be read: its message says why (the caller names it)."""


def is_vcs_url(url: str) -> bool:
    """Whether `url` names a version-control checkout (``git+``, ``hg+``, ``svn+``, ``bzr+``)."""
    return url.lower().startswith(_VCS_PREFIXES)


@attrs.frozen(slots=True)
class VcsReference:
    """A ``git+`` URL taken apart as pip reads it."""

    repository: str
    """What git fetches from: the URL without ``git+``, the revision and the fragment."""
    revision: str | None
    """The branch, tag or commit after the path's last ``@``; None: the remote's HEAD."""
    subdirectory: str | None
    """The project's directory inside the repository (``#subdirectory=``)."""
    fragment: str = ""
    """The fragment as written (``subdirectory=``, ``egg=``), kept when the URL is pinned."""

    def pinned(self, commit: str, shown_repository: str) -> str:
        """The reference at `commit`, as a lock file writes it."""
        text = f"git+{shown_repository}@{commit}"
        return f"{text}#{self.fragment}" if self.fragment else text


def parse_vcs_url(url: str) -> VcsReference:
    """`url` taken apart; `VcsError` for another VCS than git or a transport git should not
    use here."""
    kind, _, rest = url.partition("+")
    if kind.lower() != "git":
        raise VcsError(f"depsat reads git repositories only, not {kind.lower()}")
    parts = urlsplit(rest)
    if parts.scheme.lower() not in _TRANSPORTS:
        raise VcsError(f"git over {parts.scheme or 'no scheme'!r} is not read "
                       f"(one of {', '.join(_TRANSPORTS)})")
    path, revision = parts.path, None
    if "@" in path:  # (the netloc's "@" is the user's; the path's last one starts a revision)
        path, _, revision = path.rpartition("@")
        revision = unquote(revision)
        if not revision:
            raise VcsError("nothing after '@' (a branch, a tag or a commit)")
        if revision.startswith("-") or _NOT_IN_A_NAME.search(revision):
            raise VcsError(f"{revision!r} cannot name a branch, a tag or a commit")
    subdirectory = None
    for item in parts.fragment.split("&"):
        key, _, value = item.partition("=")
        if key == "subdirectory" and value:
            subdirectory = unquote(value).strip("/")
            if any(part == ".." for part in subdirectory.split("/")):
                raise VcsError(f"the subdirectory {subdirectory!r} leaves the "
                               "repository")
    repository = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return VcsReference(repository, revision, subdirectory, parts.fragment)


def commit_identity(url: str) -> tuple[str, str, str] | None:
    """What a git reference pinned at a full commit names, to compare a reference with what
    pip recorded of an installation from git (PEP 610 gives ``git+URL@<commit>``, maybe with
    ``#subdirectory=``): (repository without credentials, commit, subdirectory); None for
    anything else (another URL, a branch, a tag)."""
    if not url.lower().startswith("git+"):
        return None
    try:
        reference = parse_vcs_url(url)
    except VcsError:
        return None
    if reference.revision is None or not _FULL_COMMIT.fullmatch(reference.revision.lower()):
        return None
    parts = urlsplit(reference.repository)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    plain = urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), parts.query, ""))
    return plain, reference.revision.lower(), reference.subdirectory or ""


def egg_name(url: str) -> str | None:
    """The project a bare VCS URL names with pip's ``#egg=NAME``, or None."""
    for item in urlsplit(url).fragment.split("&"):
        key, _, value = item.partition("=")
        if key == "egg" and value:
            return unquote(value)
    return None


@attrs.frozen(slots=True)
class Checkout:
    """A commit's tree on disk."""

    commit: str
    tree: Path


class GitCheckouts:
    """Repositories and trees under `root` (see the module's docstring)."""

    def __init__(self, root: Path, *, offline: bool = False) -> None:
        self.root = root
        self.offline = offline

    def checkout(self, reference: VcsReference) -> Checkout:
        """The tree of the commit `reference` names, fetched when needed."""
        key = hashlib.sha256(reference.repository.encode()).hexdigest()[:20]
        database = self.root / "db" / key
        if not (database / "HEAD").exists():
            if self.offline:
                raise VcsError("not in the cache, and --offline fetches nothing")
            database.parent.mkdir(parents=True, exist_ok=True)
            self._git(["init", "--bare", "--quiet", str(database)])
        commit = self._commit(database, reference)
        tree = self.root / "checkouts" / key / commit
        if not tree.is_dir():
            self._write_tree(database, commit, tree)
        return Checkout(commit, tree)

    def _commit(self, database: Path, reference: VcsReference) -> str:
        """The commit the revision stands at now (fetched unless it is a known commit)."""
        revision = reference.revision
        if revision is not None and _FULL_COMMIT.fullmatch(revision.lower()):
            known = self._peel(database, revision.lower())
            if known is not None:
                return known
        if self.offline:
            # Offline: what the last fetch left (a branch as it stood then).
            for name in self._local_names(revision):
                found = self._peel(database, name)
                if found is not None:
                    return found
            raise VcsError(f"{revision or 'HEAD'} is not in the cache, and "
                           "--offline fetches nothing")
        attempts: list[tuple[list[str], str]] = []
        if revision is None:
            attempts.append((["+HEAD:refs/remotes/origin/HEAD"], "refs/remotes/origin/HEAD"))
        else:
            attempts.append(([f"+refs/heads/{revision}:refs/remotes/origin/{revision}"],
                             f"refs/remotes/origin/{revision}"))
            attempts.append(([f"+refs/tags/{revision}:refs/tags/{revision}"],
                             f"refs/tags/{revision}"))
            if _HEX.fullmatch(revision.lower()):
                # A commit (maybe abbreviated): every branch and tag, then the commit itself.
                attempts.append((["+refs/heads/*:refs/remotes/origin/*",
                                  "+refs/tags/*:refs/tags/*"], revision.lower()))
                if _FULL_COMMIT.fullmatch(revision.lower()):
                    attempts.append(([revision.lower()], revision.lower()))
        last_error = ""
        for refspecs, name in attempts:
            try:
                self._git(["--git-dir", str(database), "fetch", "--force", "--quiet",
                           "--no-tags", reference.repository, *refspecs])
            except VcsError as exc:
                last_error = str(exc)
                if "couldn't find remote ref" in last_error or \
                        "not our ref" in last_error or "unadvertised object" in last_error:
                    continue
                raise
            found = self._peel(database, name)
            if found is not None:
                return found
        if revision is None:
            raise VcsError(last_error or "the repository has no HEAD")
        raise VcsError(f"no branch, tag or commit {revision!r} in the repository")

    @staticmethod
    def _local_names(revision: str | None) -> list[str]:
        if revision is None:
            return ["refs/remotes/origin/HEAD"]
        return [f"refs/remotes/origin/{revision}", f"refs/tags/{revision}", revision]

    def _peel(self, database: Path, name: str) -> str | None:
        """The commit `name` resolves to in `database`, or None."""
        try:
            out = self._git(["--git-dir", str(database), "rev-parse", "--verify", "--quiet",
                             f"{name}^{{commit}}"])
        except VcsError:
            return None
        commit = out.strip()
        return commit if _FULL_COMMIT.fullmatch(commit) else None

    def _write_tree(self, database: Path, commit: str, tree: Path) -> None:
        """Write `commit`'s files to `tree`, whole or not at all."""
        tree.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=tree.parent))
        index = staging.with_suffix(".index")
        try:
            environment = {"GIT_INDEX_FILE": str(index)}
            where = ["--git-dir", str(database), "--work-tree", str(staging)]
            self._git([*where, "read-tree", commit], environment)
            self._git([*where, "checkout-index", "--all", "--force"], environment)
            try:
                staging.rename(tree)
            except OSError:
                if not tree.is_dir():  # (else another process wrote the same tree first)
                    raise
        finally:
            index.unlink(missing_ok=True)
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _git(self, arguments: list[str], environment: dict[str, str] | None = None) -> str:
        """Run git; its output, or `VcsError` with git's own last words."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0",
               "GIT_ALLOW_PROTOCOL": ":".join(_TRANSPORTS), **(environment or {})}
        for variable in ("GIT_DIR", "GIT_WORK_TREE"):
            env.pop(variable, None)
        if "GIT_SSH" not in env and "GIT_SSH_COMMAND" not in env:
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"  # (no host-key or password prompt)
        try:
            done = subprocess.run(["git", *arguments], capture_output=True, text=True,
                                  errors="replace", env=env, stdin=subprocess.DEVNULL,
                                  timeout=_GIT_SECONDS, check=False)
        except FileNotFoundError as exc:
            raise VcsError("git is not installed (depsat runs git to read git+ "
                           "references)") from exc
        except subprocess.TimeoutExpired as exc:
            raise VcsError(f"git {arguments[2] if len(arguments) > 2 else ''} "
                           f"took over {_GIT_SECONDS:.0f} s") from exc
        if done.returncode != 0:
            said = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            last = _PASSWORD.sub(r"\1:****@", said[-1]) if said else f"exit {done.returncode}"
            raise VcsError(f"git failed: {last}")
        return done.stdout


_PASSWORD = re.compile(r"(://[^/:@\s]+):[^@\s/]+@")
"""A password in a URL that git repeats in its messages."""
