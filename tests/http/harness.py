"""harness.py — helpers of the black-box HTTP tests of `recite serve` (tests/http/run.py):
starting and stopping servers and the upstream stub on free loopback ports, HTTP requests
with the standard library, server-sent event streams, and a small test runner that prints
`ok - NAME` / `FAIL - NAME: why` and a closing `N passed, N failed` line.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import traceback

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))

# ==== processes ====


class Proc:
    """A child process whose first stdout/stderr lines announce its port."""

    def __init__(self, argv, log, pattern, env=None, cwd=None):
        self.log = log
        self.out = open(log, "wb")
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT, env=env,
                                  cwd=cwd, stdin=subprocess.DEVNULL)
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline:
            text = self.text()
            for line in text.splitlines():
                if pattern in line:
                    self.port = int(line.split(pattern, 1)[1].split()[0].rstrip(")"))
                    return
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("%s did not start: %s" % (argv[0], self.text()[-2000:]))

    def text(self):
        if not self.out.closed:
            self.out.flush()
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def send(self, sig):
        if self.p.poll() is None:
            self.p.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        self.send(sig)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            rc = "killed after %ss" % timeout
        self.out.close()
        return rc


class Server(Proc):
    """`recite serve` with the given arguments on a free port."""

    def __init__(self, binary, args, log, env=None, cwd=None):
        argv = [binary, "serve", "--listen", "127.0.0.1:0"] + args
        super().__init__(argv, log, "listening on http://127.0.0.1:", env=env, cwd=cwd)

    def sanitizer_report(self):
        t = self.text()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "ThreadSanitizer"):
            if marker in t:
                return t[t.index(marker) - 200:][:3000]
        return None


class Stub(Proc):
    def __init__(self, models_dir, log):
        super().__init__([PY, os.path.join(HERE, "stub_upstream.py"), models_dir], log, "port ")

    @property
    def url(self):
        return "http://127.0.0.1:%d/v1" % self.port


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ==== HTTP ====


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


def request(port, method, path, body=None, headers=None, timeout=30):
    """One request on a new connection; body: bytes, str or an object sent as JSON."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode()
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    reply = Reply(r.status, r.getheaders(), data)
    c.close()
    return reply


def post(port, path, obj, headers=None, timeout=30):
    return request(port, "POST", path, obj, headers, timeout)


def get(port, path, headers=None):
    return request(port, "GET", path, None, headers)


def raw_exchange(port, data, pause_after=None, pause=0.0, rest=b"", timeout=10):
    """Sends raw bytes (then waits `pause` s and sends `rest`), returns (status, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    if pause:
        time.sleep(pause)
        try:
            s.sendall(rest)
        except OSError:
            pass
    chunks = []
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
            whole = b"".join(chunks)
            head, _, body = whole.partition(b"\r\n\r\n")
            if _ and b"content-length:" in head.lower():
                n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(body) >= n:
                    break
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    whole = b"".join(chunks)
    head, _, body = whole.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/") else 0
    return status, body


def sse_events(body):
    """The data of each event of an event-stream body (bytes), in order."""
    out = []
    for block in body.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        data = [ln[5:].lstrip(" ") if ln.startswith("data:") else None
                for ln in block.split("\n")]
        data = [d for d in data if d is not None]
        if data:
            out.append("\n".join(data))
    return out


def stream_chunks(body):
    """(chunks as objects, saw [DONE] last) of an OpenAI stream."""
    ev = sse_events(body)
    done = bool(ev) and ev[-1] == "[DONE]"
    return [json.loads(e) for e in ev if e != "[DONE]"], done


def content_of(chunks, index=0, chat=True):
    text = ""
    for c in chunks:
        for ch in c.get("choices", []):
            if ch.get("index") != index:
                continue
            if chat:
                text += (ch.get("delta") or {}).get("content") or ""
            else:
                text += ch.get("text") or ""
    return text


def finish_of(chunks, index=0):
    for c in chunks:
        for ch in c.get("choices", []):
            if ch.get("index") == index and ch.get("finish_reason"):
                return ch
    return None


def metric(port, name, headers=None):
    """The sum of a metric's samples whose line starts with `name` (labels included)."""
    total = 0.0
    for line in get(port, "/metrics", headers).body.decode().splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


# ==== the runner ====


class Runner:
    def __init__(self):
        self.passed = self.failed = 0

    def run(self, name, fn):
        t0 = time.time()
        try:
            fn()
            self.passed += 1
            dt = time.time() - t0
            print("ok - %s%s" % (name, " (%.1fs)" % dt if dt > 1 else ""), flush=True)
        except Exception as e:  # noqa: BLE001 — any failure of a test is reported
            self.failed += 1
            detail = "".join(traceback.format_exception_only(type(e), e)).strip()
            tb = traceback.extract_tb(e.__traceback__)
            where = next((f"line {f.lineno}" for f in reversed(tb)
                          if f.filename.endswith("run.py")), "")
            print("FAIL - %s: %s %s" % (name, where, detail[:1500]), flush=True)

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        sys.exit(1 if self.failed else 0)
