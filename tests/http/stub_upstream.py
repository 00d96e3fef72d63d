#!/usr/bin/python3
"""stub_upstream.py DIR [PORT] — an OpenAI-compatible upstream for the tests and benchmarks of
`recite serve --proxy`: answers POST /v1/chat/completions and /v1/completions with the text of
DIR/NAME.txt, NAME being the request's "model", streamed in OpenAI's wire format (a role chunk,
content deltas of one to three words, a finish chunk, the usage chunk when
stream_options.include_usage is set, then `data: [DONE]`) or whole. Models with special
behaviour: `error-400` / `error-500` (a JSON error), `die-mid` (the connection closes halfway,
no [DONE]), `hang` (headers, a role chunk, then silence), `slow-NAME` (NAME with 20 ms between
deltas), `no-answer` (never answers). GET /last gives the last request's headers and body.
Prints `port N` on stdout once it listens (PORT 0 or absent: any free port). Loopback only.
"""
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR = sys.argv[1]
LAST = {}
LOCK = threading.Lock()


def pieces(text):
    """Deltas as a tokenizer would give them: runs of 1-3 words with their spaces."""
    words = re.findall(r"\S+\s*|\s+", text)
    out, i, k = [], 0, 0
    while i < len(words):
        n = 1 + (k % 3)
        out.append("".join(words[i:i + n]))
        i += n
        k += 1
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small writes go out at once (no 40 ms delayed-ACK stalls)

    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # a client that leaves (the proxy stopping a stream, wrk ending a run)

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/last":
            with LOCK:
                self.send_json(200, LAST)
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        req = json.loads(raw or b"{}")
        with LOCK:
            LAST.clear()
            LAST.update({"path": self.path, "headers": dict(self.headers.items()), "body": req})
        chat = self.path.endswith("/chat/completions")
        if not (self.path.startswith("/v1/") and (chat or self.path.endswith("/completions"))):
            return self.send_json(404, {"error": {"message": "no such path", "type": "x"}})
        model = req.get("model", "")
        if model.startswith("error-"):
            status = int(model[6:])
            return self.send_json(status, {"error": {"message": "stub error %d" % status,
                                                     "type": "server_error", "code": None}})
        if model == "no-answer":
            time.sleep(30)
            return
        delay = 0.0
        name = model
        if model.startswith("slow-"):
            delay, name = 0.02, model[5:]
        if model in ("hang", "die-mid"):
            name = "default"
        try:
            with open(os.path.join(DIR, os.path.basename(name) + ".txt"), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            return self.send_json(404, {"error": {"message": "no model " + model,
                                                  "type": "invalid_request_error"}})
        cid, created = "chatcmpl-stub0001" if chat else "cmpl-stub0001", 1700000000
        obj = "chat.completion" if chat else "text_completion"
        usage = {"prompt_tokens": 7, "completion_tokens": len(pieces(text)),
                 "total_tokens": 7 + len(pieces(text))}
        n = int(req.get("n", 1))
        if not req.get("stream"):
            if chat:
                choices = [{"index": i, "message": {"role": "assistant", "content": text,
                                                    "refusal": None},
                            "logprobs": None, "finish_reason": "stop"} for i in range(n)]
            else:
                choices = [{"index": i, "text": text, "logprobs": None, "finish_reason": "stop"}
                           for i in range(n)]
            return self.send_json(200, {"id": cid, "object": obj, "created": created,
                                        "model": model, "system_fingerprint": "fp_stub",
                                        "choices": choices, "usage": usage})
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        # Chunked and kept alive, as model servers do; `die-mid` and `hang` answer with a body
        # ended by closing the connection instead, so that dying is a clean early end.
        chunked = model not in ("die-mid", "hang")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        cobj = "chat.completion.chunk" if chat else "text_completion"

        def send(data):
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.wfile.write(data)
            self.wfile.flush()

        def chunk(choices, use=None):
            c = {"id": cid, "object": cobj, "created": created, "model": model,
                 "system_fingerprint": "fp_stub", "choices": choices}
            if include_usage:
                c["usage"] = use
            send(b"data: " + json.dumps(c).encode() + b"\n\n")

        def choice(i, content, finish=None, role=False):
            if chat:
                delta = {}
                if role:
                    delta = {"role": "assistant", "content": "", "refusal": None}
                elif content is not None:
                    delta = {"content": content}
                return {"index": i, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {"index": i, "text": content or "", "logprobs": None, "finish_reason": finish}

        try:
            if chat:
                chunk([choice(i, None, role=True) for i in range(n)])
            if model == "hang":
                time.sleep(30)
                return
            parts = pieces(text)
            for k, p in enumerate(parts):
                if model == "die-mid" and k == len(parts) // 2:
                    self.close_connection = True
                    return
                for i in range(n):
                    chunk([choice(i, p)])
                if delay:
                    time.sleep(delay)
            for i in range(n):
                chunk([choice(i, None, finish="stop")])
            if include_usage:
                chunk([], usage)
            send(b"data: [DONE]\n\n")
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if not chunked:
            self.close_connection = True


def main():
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    print("port", srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
