"""The SQLite store of hash-named files: shared by threads and processes, and a damaged or
unwritable database never stops a fetch."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from depsat.sources.immutable_store import ImmutableStore


def test_stores_reads_replaces_and_removes(tmp_path: Path) -> None:
    store = ImmutableStore(tmp_path / "cache" / "files.sqlite3")
    assert store.get("k") is None and not store.has("k")
    assert not (tmp_path / "cache").exists()  # reading creates nothing
    store.put("k", "http://h/a.metadata", b"one", "text/plain")
    assert store.get("k") == (b"one", "text/plain") and store.has("k")
    store.put("k", "http://h/a.metadata", b"two", None)
    assert store.get("k") == (b"two", None)
    store.remove("k")
    assert store.get("k") is None
    store.close()


def test_threads_and_another_process_share_it(tmp_path: Path) -> None:
    path = tmp_path / "files.sqlite3"
    store = ImmutableStore(path)

    def write(first: int) -> None:
        for i in range(first, first + 50):
            store.put(f"k{i}", f"http://h/{i}", str(i).encode(), None)

    threads = [threading.Thread(target=write, args=(n * 50,)) for n in range(4)]
    for thread in threads:
        thread.start()
    child = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathlib import Path\n"
         "from depsat.sources.immutable_store import ImmutableStore\n"
         "s = ImmutableStore(Path(sys.argv[1]))\n"
         "for i in range(200, 260): s.put(f'k{i}', 'u', str(i).encode(), None)\n"
         "s.close()", str(path)], capture_output=True, text=True, timeout=60)
    for thread in threads:
        thread.join()
    assert child.returncode == 0, child.stderr
    assert all(store.get(f"k{i}") == (str(i).encode(), None) for i in range(260))
    store.close()
    again = ImmutableStore(path)
    assert again.get("k259") == (b"259", None)
    again.close()


def test_a_damaged_database_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "files.sqlite3"
    path.write_bytes(b"this is not a database, it was overwritten by something" * 100)
    store = ImmutableStore(path)
    assert store.get("k") is None  # a miss, not an error
    store.put("k", "u", b"body", None)
    assert store.get("k") == (b"body", None)
    assert (tmp_path / "files.sqlite3.damaged").is_file()
    store.close()


def test_an_unwritable_place_only_stops_saving(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("where the cache directory should be")
    store = ImmutableStore(blocker / "files.sqlite3")
    store.put("k", "u", b"body", None)
    assert store.get("k") is None and not store.has("k")
    store.remove("k")
    store.close()
