"""A real HTTP receiver on 127.0.0.1 (a free port) for the delivery tests: it answers the statuses it is given in
turn (the last one from then on) and keeps every request it got."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    statuses: list[int]
    bodies: list[bytes] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    delay: float = 0.0  # seconds to wait before answering (a slow receiver)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.server.server_address[1]}/hooks/pitcrew'

    def answer(self) -> tuple[int, bytes]:
        index = min(len(self.requests) - 1, len(self.statuses) - 1)
        body = self.bodies[index] if index < len(self.bodies) else f'answer {len(self.requests)}'.encode()
        return self.statuses[index], body

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get('Content-Length', 0))
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                status, text = receiver.answer()
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header('Content-Type', 'text/plain')
                self.send_header('Content-Length', str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
