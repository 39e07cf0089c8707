"""A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) for tests: started on loopback with a free port
and clustering off, its webhook receiver pointed at the test server, stopped at the end."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.servers import stop_process

BINARY = '/usr/bin/prometheus-alertmanager'

CONFIG = """\
route:
  receiver: pitcrew
  group_by: [alertname, instance]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: pitcrew
    webhook_configs:
      - url: {url}
        send_resolved: true
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


@dataclass
class Alertmanager:
    root: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self, *, webhook_url: str, token: str) -> None:
        config = self.root / 'alertmanager.yml'
        config.write_text(CONFIG.format(url=webhook_url, token=token))
        (self.root / 'data').mkdir(exist_ok=True)
        self.log = (self.root / 'alertmanager.log').open('wb')
        self.process = subprocess.Popen(
            [
                BINARY,
                f'--config.file={config}',
                f'--storage.path={self.root / "data"}',
                f'--web.listen-address=127.0.0.1:{self.port}',
                '--cluster.listen-address=',
                '--log.level=debug',
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'Alertmanager exited: {self.logs()}')
            try:
                with urllib.request.urlopen(f'{self.url}/-/ready', timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError(f'Alertmanager did not become ready: {self.logs()}')

    def stop(self) -> None:
        stop_process(self.process)
        if getattr(self, 'log', None):
            self.log.close()

    def logs(self) -> str:
        path = self.root / 'alertmanager.log'
        return path.read_text(errors='replace')[-4000:] if path.exists() else ''

    def post_alerts(self, alerts: list[dict]) -> None:
        """Send alerts to Alertmanager's API as Prometheus does."""
        request = urllib.request.Request(
            f'{self.url}/api/v2/alerts',
            data=json.dumps(alerts).encode(),
            headers={'Content-Type': 'application/json'},
            method='POST',
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200, response.read()

    @staticmethod
    def at(seconds: float = 0) -> str:
        moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        return moment.isoformat().replace('+00:00', 'Z')
