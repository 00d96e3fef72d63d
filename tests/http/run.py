#!/usr/bin/python3
"""tests/http/run.py BINARY — black-box HTTP tests of `recite serve` (docs/SERVE.md): status
codes and JSON errors, limits, authentication, sessions, the guardrail adapters, the filtering
proxy against an upstream stub that streams known text over loopback in OpenAI's wire format
(pass, cite, redact, block; upstream failures and disconnects), reload under load, SIGTERM
drain, and the README's proxy example. Fixtures are made from texts Debian ships. Every server
listens on a free loopback port; nothing goes beyond loopback.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as H  # noqa: E402

if len(sys.argv) != 2:
    sys.exit("usage: run.py BINARY")
BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LICENSES = "/usr/share/common-licenses"
T = tempfile.mkdtemp(prefix="recite-http.")
# Sanitizer reports exit 86 (a server must stop with 0) and are looked for in the logs.
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    os.environ[var] = "exitcode=86:" + os.environ.get(var, "")
os.environ["UBSAN_OPTIONS"] += ":print_stacktrace=1"
R = H.Runner()
SERVERS = []


def words(path, start, n):
    with open(path, encoding="utf-8", errors="replace") as f:
        w = f.read().split()
    return " ".join(w[start:start + n])


def recite(*args, stdin=None):
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, input=stdin)


# ==== fixtures ====

LIB = os.path.join(T, "lib")
IDX = os.path.join(T, "idx")
MODELS = os.path.join(T, "models")
os.makedirs(LIB)
os.makedirs(MODELS)
for name in ("GPL-3", "Apache-2.0", "MPL-2.0"):
    shutil.copy(os.path.join(LICENSES, name), LIB)
OWN = ("The quick brown fox jumps over the lazy dog while seven zebras hum quietly. "
       "Nothing here is recited: these are a few sentences of my own making, written for a "
       "test and for no other purpose, with quirky words like zqx vlorp and brimbl so that "
       "no license text could hold them. ") * 3
GPL_SPAN = words(os.path.join(LICENSES, "GPL-3"), 60, 60)
APACHE_SPAN = words(os.path.join(LICENSES, "Apache-2.0"), 200, 40)
INTRO = "Sure, here is the text you asked for. "
OUTRO = " That is all I remember of it, thank you for asking about it today."
TEXTS = {
    "default": OWN,
    "gpl": INTRO + GPL_SPAN + OUTRO,
    "apache": INTRO + APACHE_SPAN + OUTRO,
    "m": "Here is the preamble you asked for:\n\n" + GPL_SPAN + "\n",
}
for k, v in TEXTS.items():
    with open(os.path.join(MODELS, k + ".txt"), "w", encoding="utf-8") as f:
        f.write(v)
POLICY = os.path.join(T, "policy.json")
with open(POLICY, "w") as f:
    json.dump({"version": 1, "default": "flag",
               "rules": [{"common": True, "action": "allow"},
                         {"license": "Apache-2.0", "action": "cite"}]}, f)
TOKEN = os.path.join(T, "token")
with open(TOKEN, "w") as f:
    f.write("s3cret-token\n")
AUTH = {"Authorization": "Bearer s3cret-token"}
r = recite("index", "--quiet", "--out", IDX, LIB)
assert r.returncode == 0, r.stderr

STUB = H.Stub(MODELS, os.path.join(T, "stub.log"))


def server(args, name, **kw):
    s = H.Server(BIN, args, os.path.join(T, name + ".log"), **kw)
    SERVERS.append(s)
    return s


# S1: defaults, the test policy (Apache cite, the rest flag -> block), proxy.
S1 = server(["--index", IDX, "--policy", POLICY, "--proxy", STUB.url], "s1")
# S2: token, small limits, flagged works redacted, short upstream timeouts.
S2 = server(["--index", IDX, "--token-file", TOKEN, "--max-body", "4K", "--max-sessions", "3",
             "--session-idle", "1", "--request-timeout", "1", "--max-connections", "4",
             "--on-flag", "redact", "--redact-marker", "<<{work}>>", "--proxy", STUB.url,
             "--upstream-idle", "1", "--max-session-bytes", "2K"], "s2")
P1, P2 = S1.port, S2.port


def check_text(port, text, headers=None, **extra):
    body = dict(text=text, **extra)
    return H.post(port, "/v1/check", body, headers)


def assert_error(reply, status, code=None):
    assert reply.status == status, reply
    assert reply.header("Content-Type") == "application/json", reply.headers
    e = reply.json()["error"]
    assert isinstance(e["message"], str) and e["message"], e
    if code:
        assert e["code"] == code, e


# ==== basics ====


def t_listen_errors():
    # A port past 65535 is refused (getaddrinfo would take it modulo 65536), and a bad address
    # is one error line: no warning about --token-file before it, no libmicrohttpd line after.
    for listen in ("127.0.0.1:99999", "127.0.0.1:", "garbage", "999.1.1.1:8080"):
        r = subprocess.run([BIN, "serve", "--index", IDX, "--listen", listen],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (listen, r.returncode, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("recite: "), (listen, r.stderr)
    # A token or key file that is a directory or a FIFO is refused at once, saying so (a
    # directory read as "the file is empty"; a FIFO waited for a writer).
    fifo = os.path.join(T, "token.fifo")
    os.mkfifo(fifo)
    for flag, path, says in (("--token-file", T, "a directory"), ("--key", T, "a directory"),
                             ("--token-file", fifo, "not a regular file")):
        r = subprocess.run([BIN, "serve", "--index", IDX, flag, path],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (flag, path, r.returncode, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and says in lines[0], (flag, path, r.stderr)


def t_text_free_key():
    # --key reads the key file as `recite check --key` does (recite_key_read) and goes only with
    # a text-free index: given to an ordinary one it names the wrong index (or the wrong flag)
    # and the server does not start; a text-free index is not served without its key.
    key, short = os.path.join(T, "tf.key"), os.path.join(T, "tf-short.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    with open(short, "wb") as f:
        f.write(os.urandom(15))
    tf = os.path.join(T, "idx-tf")
    r = recite("index", "--quiet", "--text-free", "--key", key, "--out", tf, LIB)
    assert r.returncode == 0, r.stderr
    for args, says in (
            (["--index", IDX, "--key", key],
             "recite: serve: --key: %s is not a text-free index; it takes no key" % IDX),
            (["--index", tf], "recite: serve: the index is text-free: checking needs its key"),
            (["--index", tf, "--key", short], "recite: serve: --key %s: key too short" % short)):
        r = subprocess.run([BIN, "serve", "--listen", "127.0.0.1:0"] + args,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(says), (args, r.stderr)
    s = server(["--index", tf, "--key", key, "--reload-interval", "0"], "s-textfree")
    m = check_text(s.port, TEXTS["gpl"]).json()["matches"]
    assert m and m[0]["work"].endswith("GPL-3"), m
    # An ordinary index published in its place is not taken on a reload: the one in use stays.
    assert recite("index", "--quiet", "--out", tf, LIB).returncode == 0
    s.send(signal.SIGHUP)
    said = "reload failed, keeping the index in use: --key: %s is not a text-free index" % tf
    deadline = time.time() + 10
    while time.time() < deadline and said not in s.text():
        time.sleep(0.05)
    assert said in s.text(), s.text()[-2000:]
    assert H.metric(s.port, "recite_index_reload_failures_total") == 1
    assert H.get(s.port, "/healthz").json()["generation"] == 1
    assert check_text(s.port, TEXTS["gpl"]).json()["matches"], "the text-free index was dropped"
    assert s.stop() == 0


def t_healthz():
    j = H.get(P1, "/healthz").json()
    assert j["status"] == "ok" and j["works"] == 3 and j["generation"] == 1, j
    assert j["leak_bound_tokens"]["prose"] == 14, j
    assert H.get(P2, "/healthz").status == 200  # no token needed


def t_check_contract():
    text = TEXTS["gpl"]
    rep = check_text(P1, text, input="answer.txt")
    assert rep.status == 200, rep
    got = rep.json()
    path = os.path.join(T, "answer.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    cli = recite("check", "--index", IDX, "--policy", POLICY, "--json", path)
    assert cli.returncode == 1, cli.stderr
    want = json.loads(cli.stdout)
    for key in ("verdict", "tokens", "matches", "works", "truncated", "common_others"):
        assert got[key] == want[key], (key, got[key], want[key])
    assert got["verdict"] == "flag" and got["matches"][0]["work"].endswith("GPL-3")
    assert "redacted" not in got


def t_check_redact():
    text = TEXTS["gpl"]
    got = check_text(P1, text, redact=True).json()
    red = got["redacted"]
    assert red.startswith(INTRO) and "[recited: " in red and GPL_SPAN[:40] not in red, red
    assert red.endswith(OUTRO.strip()) or OUTRO.strip() in red, red
    red2 = check_text(P2, text, AUTH, redact=True).json()["redacted"]
    assert re.search(r"<<[^>]*GPL-3>>", red2), red2
    clean = check_text(P1, OWN, redact=True).json()
    assert clean["verdict"] == "pass" and clean["redacted"] == OWN and clean["matches"] == []


def t_check_options():
    assert_error(check_text(P1, "x", min_tokens=3), 400, "invalid_option")  # below guarantee
    got = check_text(P1, TEXTS["gpl"], min_tokens=100).json()
    assert got["matches"] == [], got  # the span has 60 words
    pol = {"version": 1, "default": "block"}
    assert check_text(P1, TEXTS["gpl"], policy=pol).json()["verdict"] == "block"
    assert_error(check_text(P1, "x", policy={"version": 9}), 400, "invalid_policy")
    assert_error(H.post(P1, "/v1/check", {"txt": "x"}), 400, "missing_text")
    assert_error(H.post(P1, "/v1/check", "{not json"), 400, "invalid_json")
    assert_error(H.post(P1, "/v1/check", "[1]"), 400, "invalid_json")
    assert_error(check_text(P1, "x", redact="yes"), 400, "invalid_option")


def t_routes():
    assert_error(H.get(P1, "/nope"), 404, "not_found")
    r = H.get(P1, "/v1/check")
    assert_error(r, 405, "method_not_allowed")
    assert r.header("Allow") == "POST", r.headers
    assert_error(H.request(P1, "PUT", "/v1/sessions/abc"), 405)
    assert_error(H.post(P1, "/v1/sessions/abc/bogus", {}), 404)


def t_auth():
    r = check_text(P2, "hello")
    assert_error(r, 401, "unauthorized")
    assert r.header("WWW-Authenticate") == "Bearer"
    assert_error(check_text(P2, "hello", {"Authorization": "Bearer wrong"}), 401)
    assert_error(check_text(P2, "hello", {"Authorization": "Bearer s3cret-tokenX"}), 401)
    assert check_text(P2, "hello", AUTH).status == 200
    assert check_text(P2, "hello", {"x-api-key": "s3cret-token"}).status == 200
    assert check_text(P2, "hello", {"Ocp-Apim-Subscription-Key": "s3cret-token"}).status == 200
    assert_error(H.get(P2, "/metrics"), 401)
    assert H.get(P2, "/metrics", AUTH).status == 200


# ==== limits ====


def t_limit_body():
    big = "word " * 2000  # 10 KB > 4K
    assert_error(check_text(P2, big, AUTH), 413, "body_too_large")
    # Chunked upload, no Content-Length: refused once it exceeds the limit.
    chunk = b"x" * 1000
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n"
    head = (b"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-token\r\n"
            b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n")
    status, out = H.raw_exchange(P2, head + body)
    assert status == 413 and b"body_too_large" in out, (status, out)


def t_limit_time():
    body = json.dumps({"text": "slow body"}).encode()
    head = (b"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret-token\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    status, out = H.raw_exchange(P2, head + body[:5], pause=1.4, rest=body[5:])
    assert status == 408 and b"request_timeout" in out, (status, out)


def t_limit_connections():
    socks = []
    try:
        for _ in range(4):
            socks.append(socket.create_connection(("127.0.0.1", P2)))
        deadline = time.time() + 5  # until the server has accepted them all
        r = check_text(P2, "hello", AUTH)
        while time.time() < deadline and r.status == 200:
            time.sleep(0.05)
            r = check_text(P2, "hello", AUTH)
        assert_error(r, 503, "too_many_connections")
    finally:
        for s in socks:
            s.close()
    # The server sees the connections close shortly after.
    deadline = time.time() + 5
    while time.time() < deadline and check_text(P2, "hello", AUTH).status != 200:
        time.sleep(0.1)
    assert check_text(P2, "hello", AUTH).status == 200
    assert H.metric(P2, "recite_connections_rejected_total", AUTH) >= 1


def t_limit_sessions():
    ids = []
    for _ in range(3):
        r = H.post(P2, "/v1/sessions", {}, AUTH)
        assert r.status == 201, r
        ids.append(r.json()["id"])
    assert_error(H.post(P2, "/v1/sessions", {}, AUTH), 429, "too_many_sessions")
    assert H.request(P2, "DELETE", "/v1/sessions/" + ids[0], None, AUTH).status == 204
    r = H.post(P2, "/v1/sessions", {}, AUTH)
    assert r.status == 201, r
    ids[0] = r.json()["id"]
    # Too much text in one session.
    assert_error(H.post(P2, "/v1/sessions/%s/append" % ids[1], {"text": "a" * 2100}, AUTH), 413,
                 "session_too_long")
    # Idle sessions expire (1 s here) and then answer 410.
    time.sleep(2.6)
    assert_error(H.post(P2, "/v1/sessions/%s/append" % ids[2], {"text": "x"}, AUTH), 410,
                 "session_expired")
    assert H.post(P2, "/v1/sessions", {}, AUTH).status == 201
    assert H.metric(P2, "recite_sessions_expired_total", AUTH) >= 3


# ==== sessions ====


def t_session_lifecycle():
    r = H.post(P1, "/v1/sessions", None)
    assert r.status == 201, r
    j = r.json()
    sid = j["id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sid) and j["leak_bound_tokens"]["prose"] == 14, j
    text = TEXTS["gpl"]
    events, cleared, last = [], 0, None
    for i in range(0, len(text), 37):
        r = H.post(P1, "/v1/sessions/%s/append" % sid, {"text": text[i:i + 37]})
        assert r.status == 200, r
        last = r.json()
        assert last["cleared"] >= cleared and last["cleared"] <= last["bytes"], last
        cleared = last["cleared"]
        events += last["events"]
    assert events and events[0]["work"].endswith("GPL-3"), events
    assert events[0]["output"]["start"] == len(INTRO), events[0]
    assert last["verdict"] == "flag" and last["action"] == "block", last
    full = H.get(P1, "/v1/sessions/" + sid)
    assert full.status == 200, full
    whole = check_text(P1, text).json()
    assert full.json()["matches"] == whole["matches"], (full.json()["matches"], whole["matches"])
    assert full.json()["verdict"] == whole["verdict"]
    assert H.get(P1, "/v1/sessions/" + sid).json() == full.json()  # the same result again
    assert_error(H.post(P1, "/v1/sessions/%s/append" % sid, {"text": "more"}), 409,
                 "session_finished")
    assert H.request(P1, "DELETE", "/v1/sessions/" + sid).status == 204
    assert_error(H.get(P1, "/v1/sessions/" + sid), 404, "session_not_found")
    assert_error(H.request(P1, "DELETE", "/v1/sessions/" + sid), 404)
    assert_error(H.post(P1, "/v1/sessions/%s/append" % ("0" * 32), {"text": "x"}), 404)
    assert_error(H.post(P1, "/v1/sessions/%s/append" % ("0" * 32), {"tex": "x"}), 400)


def t_session_busy():
    # A long append (about 0.5 MB) holds the session while it is checked; small appends
    # meanwhile find it in use. When they land is up to the scheduler (on a loaded machine the
    # small ones may all come before the long one is received), so up to five tries.
    for attempt in range(5):
        sid = H.post(P1, "/v1/sessions", {}).json()["id"]
        big = {"text": OWN * 700}
        out = {}
        t = threading.Thread(target=lambda: out.update(
            big=H.post(P1, "/v1/sessions/%s/append" % sid, big).status))
        t.start()
        statuses = []
        while t.is_alive():
            statuses.append(H.post(P1, "/v1/sessions/%s/append" % sid, {"text": "x "}).status)
        t.join()
        assert out["big"] in (200, 409), out
        assert set(statuses) <= {200, 409}, statuses
        if out["big"] == 200 and 409 in statuses:
            break
        H.request(P1, "DELETE", "/v1/sessions/" + sid)
    assert out["big"] == 200 and 409 in statuses, (attempt, out, statuses)
    busy = H.post(P1, "/v1/sessions/%s/append" % sid, {"text": "x "})
    assert busy.status == 200, busy
    H.request(P1, "DELETE", "/v1/sessions/" + sid)


# ==== guardrail adapters ====


def t_azure():
    path = "/contentsafety/text:detectProtectedMaterial?api-version=2024-09-01"
    r = H.post(P1, path, {"text": TEXTS["gpl"]})
    assert r.status == 200, r
    j = r.json()
    assert j["protectedMaterialAnalysis"] == {"detected": True}, j
    assert j["recite"]["works"][0]["work"].endswith("GPL-3"), j
    assert j["recite"]["works"][0]["spans"][0]["start"] == len(INTRO), j
    j = H.post(P1, path, {"text": OWN}).json()
    assert j["protectedMaterialAnalysis"] == {"detected": False} and j["recite"]["works"] == []
    assert_error(H.post(P1, path, {"texts": ["x"]}), 400, "InvalidRequestBody")


def t_litellm():
    path = "/beta/litellm_basic_guardrail_api"
    req = {"texts": [OWN, TEXTS["gpl"]], "input_type": "response", "litellm_call_id": "c1",
           "request_data": {}, "additional_provider_specific_params": {}}
    j = H.post(P1, path, req).json()
    assert j["action"] == "BLOCKED" and "GPL-3" in j["blocked_reason"], j
    assert "texts" not in j and len(j["recite"]) == 2, j
    j = H.post(P1, path, {"texts": [OWN], "input_type": "request"}).json()
    assert j["action"] == "NONE" and "texts" not in j, j
    j = H.post(P1, path, {"texts": [TEXTS["apache"]], "input_type": "response"}).json()
    assert j["action"] == "NONE" and j["recite"][0]["action"] == "cite", j  # cited, not changed
    j = H.post(P2, path, {"texts": [OWN, TEXTS["gpl"]], "input_type": "response"}, AUTH).json()
    assert j["action"] == "GUARDRAIL_INTERVENED", j
    assert j["texts"][0] == OWN and j["texts"][1].startswith(INTRO), j
    assert "<<" in j["texts"][1] and GPL_SPAN[:40] not in j["texts"][1], j
    assert_error(H.post(P1, path, {"texts": "x"}), 400, "missing_texts")
    assert_error(H.post(P1, path, {"texts": [1]}), 400, "missing_texts")


# ==== the proxy ====


def chat(port, model, stream=True, headers=None, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": "go"}], "stream": stream}
    body.update(extra)
    return H.post(port, "/v1/chat/completions", body, headers, timeout=30)


def assert_chunk_format(chunks, done, chat_api=True):
    assert done, "no data: [DONE] at the end"
    obj = "chat.completion.chunk" if chat_api else "text_completion"
    for c in chunks:
        if c.get("choices"):
            assert c["object"] == obj and c["id"] and c["model"], c
            for ch in c["choices"]:
                assert "index" in ch and "finish_reason" in ch, ch
                assert ("delta" in ch) if chat_api else ("text" in ch), ch
    if chat_api:
        first = chunks[0]["choices"][0]["delta"]
        assert first.get("role") == "assistant", chunks[0]


def t_proxy_pass_stream():
    r = chat(P1, "default", stream_options={"include_usage": True})
    assert r.status == 200 and r.header("Content-Type") == "text/event-stream", r
    chunks, done = H.stream_chunks(r.body)
    assert_chunk_format(chunks, done)
    assert H.content_of(chunks) == OWN
    fin = H.finish_of(chunks)
    assert fin["finish_reason"] == "stop" and fin["recite"]["action"] == "pass", fin
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0, chunks[-1]
    assert all(c.get("usage") is None for c in chunks[:-1])
    last = H.get(STUB.port, "/last").json()
    assert last["body"]["messages"][0]["content"] == "go" and last["path"] == "/v1/chat/completions"


def t_proxy_streams_incrementally():
    # 20 ms between deltas upstream: text arrives while the answer is generated, held back
    # by no more than the leak bound.
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", P1, timeout=30)
    body = json.dumps({"model": "slow-default", "stream": True, "messages": []})
    t0 = time.time()
    c.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = c.getresponse()
    first_text, buf = None, b""
    while True:
        data = resp.read1(65536)
        if not data:
            break
        buf += data
        if first_text is None and re.search(rb'"content":"[^"]', buf):
            first_text = time.time() - t0
    total = time.time() - t0
    c.close()
    chunks, done = H.stream_chunks(buf)
    assert done and H.content_of(chunks) == OWN
    assert first_text is not None and first_text < total / 2, (first_text, total)


def t_proxy_block_stream():
    r = chat(P1, "gpl")
    chunks, done = H.stream_chunks(r.body)
    assert_chunk_format(chunks, done)
    fin = H.finish_of(chunks)
    assert fin["finish_reason"] == "content_filter", fin
    rec = fin["recite"]
    assert rec["action"] == "block" and rec["reason"] == "recitation", rec
    assert rec["works"][0]["work"].endswith("GPL-3") and rec["works"][0]["license"], rec
    cfr = fin["content_filter_results"]["protected_material_text"]
    assert cfr["filtered"] and cfr["detected"] and "citation" in cfr, cfr
    released = H.content_of(chunks)
    assert INTRO.startswith(released), released  # nothing of the recited span
    assert check_text(P1, released).json()["matches"] == []
    # The upstream was stopped: no usage chunk, the finish chunk is the last one.
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"
    assert H.metric(P1, 'recite_actions_total{action="block"}') >= 1


def t_proxy_cite_stream():
    r = chat(P1, "apache")
    chunks, done = H.stream_chunks(r.body)
    assert_chunk_format(chunks, done)
    assert H.content_of(chunks) == TEXTS["apache"]
    fin = H.finish_of(chunks)
    assert fin["finish_reason"] == "stop" and fin["recite"]["action"] == "cite", fin
    w = fin["recite"]["works"][0]
    assert w["work"].endswith("Apache-2.0") and w["license"] == "Apache-2.0", w
    assert w["spans"][0]["start"] == len(INTRO), w
    cit = fin["content_filter_results"]["protected_material_text"]
    assert cit["detected"] and not cit["filtered"] and cit["citation"]["license"] == "Apache-2.0"


def t_proxy_redact_stream():
    r = chat(P2, "gpl", headers=AUTH)
    chunks, done = H.stream_chunks(r.body)
    assert_chunk_format(chunks, done)
    text = H.content_of(chunks)
    assert text.startswith(INTRO) and text.endswith(OUTRO), text
    assert re.search(r"<<[^>]*GPL-3>>", text) and GPL_SPAN[:30] not in text, text
    fin = H.finish_of(chunks)
    assert fin["finish_reason"] == "stop" and fin["recite"]["action"] == "redact", fin


def t_proxy_completions():
    r = H.post(P1, "/v1/completions", {"model": "gpl", "prompt": "x", "stream": True})
    chunks, done = H.stream_chunks(r.body)
    assert_chunk_format(chunks, done, chat_api=False)
    assert H.finish_of(chunks)["finish_reason"] == "content_filter"
    assert INTRO.startswith(H.content_of(chunks, chat=False))
    r = H.post(P1, "/v1/completions", {"model": "default", "prompt": "x", "stream": True})
    chunks, done = H.stream_chunks(r.body)
    assert done and H.content_of(chunks, chat=False) == OWN
    j = H.post(P1, "/v1/completions", {"model": "apache", "prompt": "x"}).json()
    assert j["choices"][0]["text"] == TEXTS["apache"] and j["choices"][0]["recite"]["works"]


def t_proxy_whole_answers():
    j = chat(P1, "default", stream=False).json()
    assert j["choices"][0]["message"]["content"] == OWN and j["usage"]["total_tokens"], j
    assert j["choices"][0]["finish_reason"] == "stop"
    j = chat(P1, "gpl", stream=False).json()
    ch = j["choices"][0]
    assert ch["finish_reason"] == "content_filter" and ch["recite"]["action"] == "block", ch
    assert ch["message"]["content"] == INTRO, ch
    j = chat(P2, "gpl", stream=False, headers=AUTH).json()
    content = j["choices"][0]["message"]["content"]
    assert content.startswith(INTRO) and "<<" in content and content.endswith(OUTRO), content


def t_proxy_two_choices():
    r = chat(P1, "gpl", n=2)
    chunks, done = H.stream_chunks(r.body)
    assert done
    for i in (0, 1):
        assert H.finish_of(chunks, i)["finish_reason"] == "content_filter"
        assert INTRO.startswith(H.content_of(chunks, i))
    r = chat(P1, "default", n=2)
    chunks, done = H.stream_chunks(r.body)
    assert done and H.content_of(chunks, 0) == OWN and H.content_of(chunks, 1) == OWN
    assert_error(chat(P1, "default", n=99), 400, "invalid_option")


def t_proxy_auth_forwarding():
    chat(P1, "default", headers={"Authorization": "Bearer upstream-key"})
    h = H.get(STUB.port, "/last").json()["headers"]
    assert h.get("Authorization") == "Bearer upstream-key", h  # no --token-file: passed on
    chat(P2, "default", headers=AUTH)
    h = H.get(STUB.port, "/last").json()["headers"]
    assert "Authorization" not in h, h  # recite's own token is never passed on


def t_proxy_upstream_errors():
    r = chat(P1, "error-500")
    assert r.status == 500 and r.json()["error"]["message"] == "stub error 500", r
    r = chat(P1, "error-400", stream=False)
    assert r.status == 400, r
    r = chat(P2, "no-answer", headers=AUTH)  # --upstream-idle 1
    assert_error(r, 504, "upstream_timeout")
    port = H.free_port()
    s = server(["--index", IDX, "--proxy", "http://127.0.0.1:%d/v1" % port], "s-down")
    assert_error(chat(s.port, "default"), 502, "upstream_failed")
    assert_error(H.post(P1, "/v1/chat/completions", "{bad"), 400, "invalid_json")
    s_off = H.post(s.port, "/v1/check", {"text": "x"})
    assert s_off.status == 200
    assert s.stop() == 0


def t_proxy_upstream_dies():
    # The upstream closes halfway through: an error event ends the stream, no [DONE], and
    # nothing that was not cleared is released.
    r = chat(P1, "die-mid")
    ev = H.sse_events(r.body)
    assert ev[-1] != "[DONE]" and "error" in json.loads(ev[-1]), ev[-1]
    assert json.loads(ev[-1])["error"]["code"] == "upstream_closed", ev[-1]
    chunks = [json.loads(e) for e in ev[:-1]]
    released = H.content_of(chunks)
    assert OWN.startswith(released) and len(released) < len(OWN) // 2, released
    r = chat(P2, "hang", headers=AUTH)  # silence after the role chunk
    ev = H.sse_events(r.body)
    assert json.loads(ev[-1])["error"]["code"] == "upstream_timeout", ev


def t_proxy_client_leaves():
    before = H.metric(P1, "recite_client_disconnects_total")
    s = socket.create_connection(("127.0.0.1", P1))
    body = json.dumps({"model": "slow-default", "stream": True, "messages": []}).encode()
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
              b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    s.recv(100)
    s.close()
    deadline = time.time() + 5
    while time.time() < deadline and H.metric(P1, "recite_client_disconnects_total") <= before:
        time.sleep(0.1)
    assert H.metric(P1, "recite_client_disconnects_total") > before
    assert H.get(P1, "/healthz").status == 200


def t_proxy_off():
    s = server(["--index", IDX], "s-noproxy")
    assert_error(chat(s.port, "default"), 404, "proxy_off")
    assert s.stop() == 0


def t_metrics():
    body = H.get(P1, "/metrics").body.decode()
    assert H.get(P1, "/metrics").header("Content-Type").startswith("text/plain; version=0.0.4")
    for name in ("recite_http_requests_total", "recite_http_request_duration_seconds_bucket",
                 "recite_checked_bytes_total", "recite_checked_tokens_total",
                 "recite_matches_total", "recite_verdicts_total", "recite_sessions_open",
                 "recite_index_works", "recite_index_bytes", "recite_index_reloads_total"):
        assert re.search(r"^# TYPE %s " % name.replace("_bucket", ""), body, re.M) or \
            name.endswith("_bucket"), name
        assert re.search(r"^%s(\{[^}]*\})? [0-9.e+-]+$" % name, body, re.M), name
    ok = 'recite_http_requests_total{route="/v1/check",status="200"}'
    n = H.metric(P1, ok)
    check_text(P1, OWN)
    # A request is counted when libmicrohttpd reports it complete, which may be just after the
    # client has its answer: wait for it (a loaded machine), then it must be exactly one more.
    deadline = time.time() + 10
    while time.time() < deadline and H.metric(P1, ok) < n + 1:
        time.sleep(0.02)
    assert H.metric(P1, ok) == n + 1
    assert H.metric(P1, 'recite_http_requests_total{route="/v1/check",status="400"}') >= 1
    assert H.metric(P1, "recite_index_works") == 3


# ==== reload, drain, the README ====


def t_reload_under_load():
    idx = os.path.join(T, "idx-reload")
    lib2 = os.path.join(T, "lib2")
    os.makedirs(lib2)
    shutil.copy(os.path.join(LICENSES, "Artistic"), lib2)
    assert recite("index", "--quiet", "--out", idx, LIB).returncode == 0
    s = server(["--index", idx, "--reload-interval", "1", "--proxy", STUB.url], "s-reload")
    new_text = INTRO + words(os.path.join(LICENSES, "Artistic"), 100, 40)
    texts = [TEXTS["gpl"], new_text, OWN]
    stop = threading.Event()
    statuses, lock = [], threading.Lock()

    def load():
        i = 0
        while not stop.is_set():
            try:
                st = H.post(s.port, "/v1/check", {"text": texts[i % 3]}).status
            except OSError as e:
                st = repr(e)
            with lock:
                statuses.append(st)
            i += 1
    ts = [threading.Thread(target=load) for _ in range(4)]
    for t in ts:
        t.start()
    try:
        time.sleep(0.3)
        assert check_text(s.port, new_text).json()["matches"] == []
        # A new index published in place (recite index replaces the directory atomically),
        # picked up by SIGHUP.
        # (The periodic check, every second, may take it before the signal does; SIGHUP reloads
        # even an unchanged index, so either order ends in generation 2 or 3.)
        assert recite("index", "--quiet", "--out", idx, LIB, lib2).returncode == 0
        s.send(signal.SIGHUP)
        deadline = time.time() + 30
        while time.time() < deadline and H.get(s.port, "/healthz").json()["generation"] < 2:
            time.sleep(0.05)
        assert H.get(s.port, "/healthz").json()["works"] == 4
        time.sleep(1.5)  # longer than the server's signal loop: a pending SIGHUP is taken now
        g1 = H.get(s.port, "/healthz").json()["generation"]
        assert g1 in (2, 3), g1
        # A second one, found by the periodic check (nothing else reloads now).
        assert recite("index", "--quiet", "--out", idx, lib2, LIB).returncode == 0
        deadline = time.time() + 30
        while time.time() < deadline and H.get(s.port, "/healthz").json()["generation"] == g1:
            time.sleep(0.05)
        gen = H.get(s.port, "/healthz").json()["generation"]
        assert gen == g1 + 1, (g1, gen)
        time.sleep(0.3)
    finally:
        stop.set()
        for t in ts:
            t.join()
    bad = [x for x in statuses if x != 200]
    assert len(statuses) > 50 and not bad, (len(statuses), bad[:5])
    m = check_text(s.port, new_text).json()["matches"]
    assert m and m[0]["work"].endswith("Artistic"), m
    assert H.metric(s.port, "recite_index_reloads_total") == gen - 1
    # A broken index is not taken: the one in use stays.
    with open(os.path.join(idx, "recite.idx"), "r+b") as f:
        f.seek(100)
        f.write(b"garbage!")
    os.rename(os.path.join(idx, "recite.idx"), os.path.join(idx, "x"))
    shutil.copy(os.path.join(idx, "x"), os.path.join(idx, "recite.idx"))
    s.send(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and H.metric(s.port, "recite_index_reload_failures_total") < 1:
        time.sleep(0.05)
    assert H.metric(s.port, "recite_index_reload_failures_total") >= 1
    assert check_text(s.port, new_text).json()["matches"], "the old index was dropped"
    assert s.stop() == 0


def t_drain():
    s = server(["--index", IDX, "--proxy", STUB.url, "--drain-timeout", "20"], "s-drain")
    out = {}

    def stream():
        out["r"] = chat(s.port, "slow-default")
    t = threading.Thread(target=stream)
    t.start()
    time.sleep(0.4)
    s.send(signal.SIGTERM)
    time.sleep(0.2)
    try:
        refused = H.get(s.port, "/healthz").status == 503
    except OSError:
        refused = True
    t.join()
    rc = s.stop()
    chunks, done = H.stream_chunks(out["r"].body)
    assert done and H.content_of(chunks) == OWN, "the stream in flight was cut"
    assert refused, "new requests were still taken while draining"
    assert rc == 0, rc


def t_readme_example():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    block = re.search(r"```sh\n(# In front of any OpenAI-compatible server[^`]*)```", readme)
    assert block, "no proxy example in README.md"
    lines = [ln for ln in block.group(1).splitlines() if ln.strip()]
    assert len(lines) <= 6, lines  # five lines and the comment
    port = H.free_port()
    script = block.group(1)
    script = script.replace("http://127.0.0.1:8000/v1", STUB.url)
    script = script.replace("--proxy", "--listen 127.0.0.1:%d --proxy" % port)
    script = script.replace("localhost:8080", "127.0.0.1:%d" % port)
    work = os.path.join(T, "readme")
    os.makedirs(work)
    bindir = os.path.join(T, "bin")
    os.makedirs(bindir, exist_ok=True)
    if not os.path.exists(os.path.join(bindir, "recite")):
        os.symlink(BIN, os.path.join(bindir, "recite"))
    env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])
    r = subprocess.run(["bash", "-c", script + "\nkill %1; wait %1"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=60)
    assert '"finish_reason":"content_filter"' in r.stdout, (r.stdout[-2000:], r.stderr[-2000:])
    assert '"action":"block"' in r.stdout and "[DONE]" in r.stdout, r.stdout[-2000:]
    chunks, done = H.stream_chunks(r.stdout.encode())
    assert done and GPL_SPAN[:30] not in H.content_of(chunks), r.stdout[-2000:]


TESTS = [(n[2:], f) for n, f in list(globals().items()) if n.startswith("t_") and callable(f)]
try:
    only = os.environ.get("RECITE_HTTP_ONLY")
    for name, fn in TESTS:
        if not only or re.search(only, name):
            R.run(name, fn)
    for srv in SERVERS:
        if srv.p.poll() is None:
            rc = srv.stop()
            rep = srv.sanitizer_report()
            if rc != 0 or rep:
                R.run("clean exit of " + os.path.basename(srv.log),
                      lambda rc=rc, rep=rep: (_ for _ in ()).throw(
                          AssertionError("exit %r %s" % (rc, rep or ""))))
        else:
            rep = srv.sanitizer_report()
            if rep:
                R.run("sanitizers on " + os.path.basename(srv.log),
                      lambda rep=rep: (_ for _ in ()).throw(AssertionError(rep)))
finally:
    for srv in SERVERS:
        if srv.p.poll() is None:
            srv.p.kill()
    STUB.p.kill()
    STUB.p.wait()
    if os.environ.get("RECITE_HTTP_KEEP"):
        print("# kept", T)
    else:
        shutil.rmtree(T, ignore_errors=True)
R.finish()
