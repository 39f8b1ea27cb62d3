import json
import threading
import urllib.request
from http.server import ThreadingHTTPServer

import app


def test_health_says_ok():
    assert app.health()["status"] == "ok"


def test_healthz_answers_over_http():
    server = ThreadingHTTPServer(("127.0.0.1", 0), app.Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert json.load(response)["service"] == app.SERVICE
    finally:
        server.shutdown()
