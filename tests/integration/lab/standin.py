"""Tiny stand-in images for the lab cluster's tests: `standin.py web|worker|crash|hog`.

web: answers GET /healthz on $PORT (SO_REUSEPORT, as the shop binds, so a rolling update's
new pod can listen beside the old one); worker: idles; crash: prints and exits 1;
hog: allocates 16 MiB every 50 ms until something kills it.
"""

import http.server
import os
import socket
import sys
import time

mode = sys.argv[1]
print(
    f"{mode} release={os.environ.get('LAB_RELEASE')} pod={os.environ.get('POD_NAME')}", flush=True
)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class SharedPortServer(http.server.HTTPServer):
    def server_bind(self) -> None:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


if mode == "web":
    SharedPortServer(("127.0.0.1", int(os.environ["PORT"])), Health).serve_forever()
elif mode == "crash":
    print(f"boom: bad config {os.environ.get('LAB_RELEASE')}", flush=True)
    sys.exit(1)
elif mode == "hog":
    held = []
    while True:
        held.append(b"x" * (16 * 1024 * 1024))  # written, so resident
        time.sleep(0.05)
else:
    while True:
        time.sleep(60)
