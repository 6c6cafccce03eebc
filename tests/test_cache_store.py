"""The cache database: shared by threads and processes, and a damaged or unwritable
database never stops a fetch."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from depsat.sources import cache_store
from depsat.sources.cache_store import CacheStore


def test_asks_which_of_many_files_are_stored_in_one_go(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "cache.sqlite3")
    assert store.stored_files(["a", "b"]) == set()  # no database yet: nothing stored
    keys = [f"key-{i}" for i in range(1234)]  # more than one query's worth of parameters
    for key in keys[::3]:
        store.put_file(key, f"http://h/{key}", b"x", None)
    store.put_response("key-1", "id1", b"{}", b"page")  # a page is not a file
    assert store.stored_files(keys) == set(keys[::3])
    assert store.stored_files([]) == set()
    assert all(store.has_file(k) == (k in set(keys[::3])) for k in keys[:30])
    urls = [f"file:///index/{i}.metadata" for i in range(1234)]
    assert store.local_reads(urls) == set()
    store.remember_local_reads(urls[::2])
    store.remember_local_reads(urls[:4])  # noted twice: once is kept
    assert store.local_reads(urls) == set(urls[::2]) | set(urls[:4])
    assert store.stored_files(urls) == set()  # a note is not a stored file


def test_stores_reads_replaces_and_removes(tmp_path: Path) -> None:
    store = CacheStore(tmp_path / "cache" / "files.sqlite3")
    assert store.file("k") is None and not store.has_file("k") and store.response("k") is None
    assert not (tmp_path / "cache").exists()  # reading creates nothing
    store.put_file("k", "http://h/a.metadata", b"one", "text/plain")
    assert store.file("k") == (b"one", "text/plain") and store.has_file("k")
    store.put_file("k", "http://h/a.metadata", b"two", None)
    assert store.file("k") == (b"two", None)
    store.remove_file("k")
    assert store.file("k") is None

    store.put_response("k", "id1", b'{"head": 1}', b"page")
    assert store.response("k") == (b'{"head": 1}', b"page")
    assert store.file("k") is None  # the two kinds do not mix
    store.set_response_head("id1", b'{"head": 2}')
    assert store.response_head("id1") == b'{"head": 2}'
    store.remove_response(entry_id="id1")
    assert store.response("k") is None
    store.put_response("k", "id1", b"{}", b"page")
    store.remove_response(key="k")
    assert store.response_head("id1") is None

    # A head first, the body only if wanted: never the body of an entry replaced meanwhile.
    assert store.response_head_of("k") is None
    store.put_response("k", "id1", b'{"etag": 1}', b"old page")
    head = store.response_head_of("k")
    assert head == b'{"etag": 1}' and store.response_body("k", head) == b"old page"
    store.put_response("k", "id1", b'{"etag": 2}', b"new page")
    assert store.response_body("k", head) is None
    assert store.response_body("k", b'{"etag": 2}') == b"new page"
    store.close()


def test_a_miss_is_remembered_until_stored(tmp_path: Path) -> None:
    """A key looked up and not found is not asked of the database again by this store, until
    this store stores it; what another store wrote meanwhile is only found by a new store."""
    path = tmp_path / "cache.sqlite3"
    store = CacheStore(path)
    store.put_file("seed", "http://h/seed", b"s", None)  # the database exists
    statements: list[str] = []
    connection = store._connect(create=False)
    assert connection is not None
    connection.set_trace_callback(statements.append)
    assert store.file("f") is None and not store.has_file("f")
    assert store.stored_files(["f", "g", "seed"]) == {"seed"}
    assert store.file("g") is None and store.response("p") is None
    assert store.response("p") is None
    # The files' and the pages' keys are listed once; nothing else is asked.
    assert statements == [f"SELECT key FROM files LIMIT {cache_store._KEYS_LISTED + 1}",
                          f"SELECT key FROM responses LIMIT {cache_store._KEYS_LISTED + 1}"]
    other = CacheStore(path)
    other.put_file("f", "http://h/f", b"theirs", None)
    other.close()
    assert store.file("f") is None  # remembered as absent: fetched again, as if it had not
    store.put_file("f", "http://h/f", b"ours", None)
    store.put_response("p", "id-p", b"{}", b"page")
    assert store.file("f") == (b"ours", None) and store.response("p") == (b"{}", b"page")
    assert CacheStore(path).file("g") is None
    store.close()


def test_the_pages_held_are_listed_once(tmp_path: Path) -> None:
    """The first page looked up lists every stored page's key; then a page neither listed
    nor stored since is absent without a query, and one stored here since is found."""
    path = tmp_path / "cache.sqlite3"
    earlier = CacheStore(path)
    earlier.put_response("old", "id-old", b"{}", b"old page")
    earlier.close()
    store = CacheStore(path)
    store.put_file("seed", "http://h/seed", b"s", None)  # (opens the database)
    statements: list[str] = []
    connection = store._connect(create=False)
    assert connection is not None
    connection.set_trace_callback(statements.append)
    assert [store.response_head_of(key) for key in ("a", "b", "c")] == [None] * 3
    assert statements == [f"SELECT key FROM responses LIMIT {cache_store._KEYS_LISTED + 1}"]
    assert store.response("old") == (b"{}", b"old page")  # (listed: asked for its row)
    store.put_response("b", "id-b", b"{}", b"page b")
    assert store.response("b") == (b"{}", b"page b")
    assert store.response_head_of("c") is None
    assert sum("FROM responses WHERE" in sql for sql in statements) == 2  # old, then b
    store.close()


def test_files_and_local_reads_are_listed_once_when_few(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to `_KEYS_LISTED` keys, the files and the local reads are read once and then kept
    up to date by this store's own writes and removals, with no further query; a table with
    more is asked key by key, as before."""
    path = tmp_path / "cache.sqlite3"
    earlier = CacheStore(path)
    for key in ("a", "b", "c"):
        earlier.put_file(key, f"http://h/{key}", key.encode(), None)
    earlier.remember_local_reads(["file:///x", "file:///y"])
    earlier.close()
    monkeypatch.setattr(cache_store, "_KEYS_LISTED", 3)

    store = CacheStore(path)
    store.put_response("p", "id-p", b"{}", b"page")  # (opens the database)
    statements: list[str] = []
    connection = store._connect(create=False)
    assert connection is not None
    connection.set_trace_callback(statements.append)
    assert store.stored_files(["a", "c", "d"]) == {"a", "c"}
    assert store.local_reads(["file:///x", "file:///z"]) == {"file:///x"}
    assert len(statements) == 2  # the two lists
    assert store.file("d") is None and not store.has_file("e")
    assert len(statements) == 2  # not listed: absent, without a query
    store.put_file("d", "http://h/d", b"d", None)  # this store's own write is seen...
    store.remove_file("a")  # ...and so is its removal
    store.remember_local_reads(["file:///z"])
    statements.clear()
    assert store.stored_files(["a", "c", "d"]) == {"c", "d"}
    assert store.local_reads(["file:///x", "file:///z"]) == {"file:///x", "file:///z"}
    assert not any("LIMIT" in sql or " IN " in sql for sql in statements)
    assert store.file("d") == (b"d", None) and store.file("a") is None
    store.close()

    crowded = CacheStore(path)  # four files now: one more than may be listed
    assert crowded.stored_files(["a", "b", "c", "d", "e"]) == {"b", "c", "d"}
    assert crowded.file("b") == (b"b", None) and crowded.file("e") is None
    assert crowded.local_reads(["file:///x", "file:///y", "file:///q"]) == {"file:///x",
                                                                             "file:///y"}
    crowded.close()


def test_a_failed_write_is_not_taken_for_a_stored_file(tmp_path: Path) -> None:
    """A key whose write failed (here: the database became read-only) is not answered as
    stored from the list."""
    path = tmp_path / "cache.sqlite3"
    store = CacheStore(path)
    store.put_file("a", "http://h/a", b"a", None)
    assert store.stored_files(["a", "b"]) == {"a"}
    connection = store._connect(create=False)
    assert connection is not None
    connection.execute("PRAGMA query_only = ON")
    store.put_file("b", "http://h/b", b"b", None)
    assert store.stored_files(["a", "b"]) == {"a"}
    assert store.file("b") is None
    store.close()


def test_threads_and_another_process_share_it(tmp_path: Path) -> None:
    path = tmp_path / "files.sqlite3"
    store = CacheStore(path)

    def write(first: int) -> None:
        for i in range(first, first + 50):
            store.put_file(f"k{i}", f"http://h/{i}", str(i).encode(), None)

    threads = [threading.Thread(target=write, args=(n * 50,)) for n in range(4)]
    for thread in threads:
        thread.start()
    child = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path\n"
         "from depsat.sources.cache_store import CacheStore\n"
         "s = CacheStore(Path(sys.argv[1]))\n"
         "for i in range(200, 260): s.put_file(f'k{i}', 'u', str(i).encode(), None)\n"
         "s.close()", str(path)], capture_output=True, text=True, timeout=60)
    for thread in threads:
        thread.join()
    assert child.returncode == 0, child.stderr
    assert all(store.file(f"k{i}") == (str(i).encode(), None) for i in range(260))
    store.close()
    again = CacheStore(path)
    assert again.file("k259") == (b"259", None)
    again.close()


def test_a_damaged_database_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "files.sqlite3"
    path.write_bytes(b"this is not a database, it was overwritten by something" * 100)
    store = CacheStore(path)
    assert store.file("k") is None  # a miss, not an error
    store.put_file("k", "u", b"body", None)
    assert store.file("k") == (b"body", None)
    assert (tmp_path / "files.sqlite3.damaged").is_file()
    store.close()


def test_an_unwritable_place_only_stops_saving(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("where the cache directory should be")
    store = CacheStore(blocker / "files.sqlite3")
    store.put_file("k", "u", b"body", None)
    store.put_response("k", "id", b"{}", b"body")
    assert store.file("k") is None and not store.has_file("k") and store.response("k") is None
    store.remove_file("k")
    store.close()


def test_only_the_newest_resolutions_are_kept(tmp_path: Path) -> None:
    """The memo keeps one resolution per command line; the oldest go first, and one stored
    again counts as new."""
    store = CacheStore.in_cache_dir(tmp_path)
    for number in range(55):
        store.put_resolution(f"k{number}", f"body {number}".encode())
    store.put_resolution("k2", b"again")
    kept = [k for k in (f"k{n}" for n in range(55)) if store.resolution(k) is not None]
    assert kept == ["k2", *[f"k{n}" for n in range(6, 55)]]
    assert store.resolution("k2") == b"again"
    store.close()
