/*
 * serve_main.c — `recite serve`: its options, start-up (index, policy, token, upstream), and
 * the main thread's loop: signals (SIGHUP reloads, SIGTERM/SIGINT drain and stop), the
 * periodic index check and the expiry of idle sessions. HTTP runs on libmicrohttpd's threads
 * (serve_http.c). Exit status 0 after a clean stop, 2 when it cannot start.
 */
#include "serve_http.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_USAGE 2

static const char help_text[] =
    "usage: recite serve --index DIR [--listen ADDR:PORT] [--policy FILE] [--token-file FILE]\n"
    "                    [--proxy URL [--upstream-key-file FILE]] [options]\n"
    "\n"
    "An HTTP service (docs/SERVE.md): POST /v1/check, streaming sessions under /v1/sessions,\n"
    "GET /healthz, GET /metrics, the Azure-style /contentsafety/text:detectProtectedMaterial and\n"
    "LiteLLM's /beta/litellm_basic_guardrail_api; with --proxy URL, an OpenAI-compatible\n"
    "filtering proxy for POST /v1/chat/completions and /v1/completions in front of URL (the\n"
    "upstream's base URL as OpenAI clients take it, e.g. http://127.0.0.1:8000/v1).\n"
    "\n"
    "  --listen ADDR:PORT        where to listen (default 127.0.0.1:8080; port 0: any free one)\n"
    "  --policy FILE             the policy deciding verdicts (docs/POLICY.md)\n"
    "  --token-file FILE         require 'Authorization: Bearer TOKEN' (TOKEN: the file's line)\n"
    "  --key FILE                the key of a text-free index (refused for an ordinary one)\n"
    "  --upstream-key-file FILE  the upstream's API key (default: the client's Authorization\n"
    "                            header is passed on when there is no --token-file)\n"
    "  --on-cite ACT, --on-flag ACT, --on-block ACT\n"
    "                            what to do with a work of that verdict: pass, cite, redact or\n"
    "                            block (defaults: cite, block, block)\n"
    "  --redact-marker TEXT      replaces redacted spans; {work} is the work id\n"
    "                            (default '[recited: {work}]')\n"
    "limits (answered with a JSON error):\n"
    "  --max-body SIZE           request body (default 1M): 413\n"
    "  --request-timeout S       to receive a request (default 30): 408\n"
    "  --max-connections N       open connections (default 256): 503\n"
    "  --max-sessions N          open sessions (default 1000): 429\n"
    "  --session-idle S          idle sessions expire (default 300): 410\n"
    "  --max-session-bytes SIZE  text of one session (default 1M): 413\n"
    "  --idle-timeout S          idle keep-alive connections are closed (default 60)\n"
    "  --upstream-timeout S      a whole upstream answer (default 600): 504\n"
    "  --upstream-idle S         silence from the upstream (default 120): 504\n"
    "  --upstream-connect-timeout S (default 10)\n"
    "  --max-choices N           'n' of a proxied request (default 8)\n"
    "  --reload-interval S       check DIR for a new index every S seconds (default 5; 0: on\n"
    "                            SIGHUP only)\n"
    "  --drain-timeout S         on SIGTERM, wait up to S seconds for requests (default 30)\n"
    "  --quiet                   no start-up and reload lines\n";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("recite: serve: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

/* Whether [s, end) is only digits and a decimal point: what strto* parse beyond that (leading
 * spaces, a sign, hexadecimal, "inf", exponents) is not a number a user means here. */
static bool digits_only(const char *s, const char *end)
{
    return end > s && strspn(s, "0123456789.") == (size_t)(end - s);
}

static unsigned uint_arg(const char *opt, const char *s, unsigned min, unsigned max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || !digits_only(s, end) || v < min || v > max)
        die("%s expects a whole number from %u to %u, not '%s' (see recite serve --help)", opt, min,
            max, s);
    return (unsigned)v;
}

static size_t size_arg(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    const char *num_end = end;
    double mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024.0 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1024.0 * 1024 * 1024, end++;
    if (errno || end == s || *end || !digits_only(s, num_end) || !(v >= 1) || v * mult > 1e12)
        die("%s expects a size such as 64K or 1M, not '%s'", opt, s);
    return (size_t)(v * mult);
}

/* A small file of a secret (a token, the upstream's API key), opened without blocking (a FIFO
 * would wait for a writer) and refused unless a regular file; read into buf (cap bytes at
 * most), its size returned. */
static size_t read_small(const char *opt, const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
        die("%s %s: %s", opt, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        die("%s %s: %s", opt, path,
            S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file");
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("%s %s: %s", opt, path, strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    return n;
}

/* The first line of a small file, trimmed: a token or the upstream's API key. */
static char *read_secret(const char *opt, const char *path)
{
    char buf[4097];
    size_t n = read_small(opt, path, buf, sizeof buf - 1);
    buf[n] = 0;
    size_t a = 0;
    while (a < n && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r' || buf[a] == '\n'))
        a++;
    size_t b = a;
    while (b < n && buf[b] != '\r' && buf[b] != '\n')
        b++;
    while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t'))
        b--;
    if (b == a)
        die("%s %s: the file is empty", opt, path);
    for (size_t i = a; i < b; i++)
        if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
            die("%s %s: the token must be printable ASCII without spaces", opt, path);
    char *s = strndup(buf + a, b - a);
    if (!s)
        die("out of memory");
    return s;
}

/* The upstream's base URL: http(s)://HOST[:PORT][/PATH], without a trailing slash; a URL
 * without a path gets /v1 (where OpenAI-compatible servers answer). */
static char *upstream_base(const char *url)
{
    const char *rest = strncmp(url, "http://", 7) == 0    ? url + 7
                       : strncmp(url, "https://", 8) == 0 ? url + 8
                                                          : NULL;
    if (!rest || !*rest || *rest == '/')
        die("--proxy expects an http:// or https:// URL such as http://127.0.0.1:8000/v1, not "
            "'%s'",
            url);
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    sbuf b = {0};
    sbuf_add(&b, url, n);
    if (!strchr(rest, '/') || (size_t)(strchr(rest, '/') - url) >= n)
        sbuf_adds(&b, "/v1");
    char *s = sbuf_take(&b, NULL);
    if (!s)
        die("out of memory");
    return s;
}

static bool is_loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "localhost:", 10) == 0 ||
           strncmp(listen, "[::1]:", 6) == 0;
}

void serve_options_default(serve_options *o)
{
    *o = (serve_options){.listen = "127.0.0.1:8080",
                         .marker = "[recited: {work}]",
                         .max_body = 1u << 20,
                         .max_session_bytes = 1u << 20,
                         .max_upstream_body = 16u << 20,
                         .max_connections = 256,
                         .max_sessions = 1000,
                         .session_idle = 300,
                         .request_timeout = 30,
                         .idle_timeout = 60,
                         .upstream_timeout = 600,
                         .upstream_idle = 120,
                         .upstream_connect_timeout = 10,
                         .reload_interval = 5,
                         .drain_timeout = 30,
                         .max_choices = 8,
                         .on = {ACT_PASS, ACT_CITE, ACT_BLOCK, ACT_BLOCK}};
}

static void parse_options(serve_server *s, int argc, char **argv)
{
    enum {
        O_INDEX = 256,
        O_LISTEN,
        O_POLICY,
        O_TOKEN,
        O_KEY,
        O_PROXY,
        O_UPKEY,
        O_ON_CITE,
        O_ON_FLAG,
        O_ON_BLOCK,
        O_MARKER,
        O_MAX_BODY,
        O_REQ_TIMEOUT,
        O_MAX_CONN,
        O_MAX_SESS,
        O_SESS_IDLE,
        O_SESS_BYTES,
        O_IDLE,
        O_UP_TIMEOUT,
        O_UP_IDLE,
        O_UP_CONNECT,
        O_CHOICES,
        O_RELOAD,
        O_DRAIN,
        O_QUIET,
        O_HELP
    };
    static const struct option opts[] = {
        {"index", required_argument, 0, O_INDEX},
        {"listen", required_argument, 0, O_LISTEN},
        {"policy", required_argument, 0, O_POLICY},
        {"token-file", required_argument, 0, O_TOKEN},
        {"key", required_argument, 0, O_KEY},
        {"proxy", required_argument, 0, O_PROXY},
        {"upstream-key-file", required_argument, 0, O_UPKEY},
        {"on-cite", required_argument, 0, O_ON_CITE},
        {"on-flag", required_argument, 0, O_ON_FLAG},
        {"on-block", required_argument, 0, O_ON_BLOCK},
        {"redact-marker", required_argument, 0, O_MARKER},
        {"max-body", required_argument, 0, O_MAX_BODY},
        {"request-timeout", required_argument, 0, O_REQ_TIMEOUT},
        {"max-connections", required_argument, 0, O_MAX_CONN},
        {"max-sessions", required_argument, 0, O_MAX_SESS},
        {"session-idle", required_argument, 0, O_SESS_IDLE},
        {"max-session-bytes", required_argument, 0, O_SESS_BYTES},
        {"idle-timeout", required_argument, 0, O_IDLE},
        {"upstream-timeout", required_argument, 0, O_UP_TIMEOUT},
        {"upstream-idle", required_argument, 0, O_UP_IDLE},
        {"upstream-connect-timeout", required_argument, 0, O_UP_CONNECT},
        {"max-choices", required_argument, 0, O_CHOICES},
        {"reload-interval", required_argument, 0, O_RELOAD},
        {"drain-timeout", required_argument, 0, O_DRAIN},
        {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0}};
    serve_options *o = &s->opt;
    serve_options_default(o);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        serve_act *slot = NULL;
        const char *slot_name = NULL;
        switch (c) {
        case O_INDEX: o->index_dir = optarg; break;
        case O_LISTEN: o->listen = optarg; break;
        case O_POLICY: o->policy_file = optarg; break;
        case O_TOKEN: o->token_file = optarg; break;
        case O_KEY: o->key_file = optarg; break;
        case O_PROXY: o->proxy_url = optarg; break;
        case O_UPKEY: o->upstream_key_file = optarg; break;
        case O_ON_CITE: slot = &o->on[RECITE_ACTION_CITE], slot_name = "--on-cite"; break;
        case O_ON_FLAG: slot = &o->on[RECITE_ACTION_FLAG], slot_name = "--on-flag"; break;
        case O_ON_BLOCK: slot = &o->on[RECITE_ACTION_BLOCK], slot_name = "--on-block"; break;
        case O_MARKER: o->marker = optarg; break;
        case O_MAX_BODY: o->max_body = size_arg("--max-body", optarg); break;
        case O_REQ_TIMEOUT:
            o->request_timeout = uint_arg("--request-timeout", optarg, 1, 86400);
            break;
        case O_MAX_CONN:
            o->max_connections = uint_arg("--max-connections", optarg, 1, 100000);
            break;
        case O_MAX_SESS: o->max_sessions = uint_arg("--max-sessions", optarg, 1, 10000000); break;
        case O_SESS_IDLE: o->session_idle = uint_arg("--session-idle", optarg, 1, 604800); break;
        case O_SESS_BYTES: o->max_session_bytes = size_arg("--max-session-bytes", optarg); break;
        case O_IDLE: o->idle_timeout = uint_arg("--idle-timeout", optarg, 1, 86400); break;
        case O_UP_TIMEOUT:
            o->upstream_timeout = uint_arg("--upstream-timeout", optarg, 1, 86400);
            break;
        case O_UP_IDLE: o->upstream_idle = uint_arg("--upstream-idle", optarg, 1, 86400); break;
        case O_UP_CONNECT:
            o->upstream_connect_timeout = uint_arg("--upstream-connect-timeout", optarg, 1, 600);
            break;
        case O_CHOICES: o->max_choices = uint_arg("--max-choices", optarg, 1, 128); break;
        case O_RELOAD: o->reload_interval = uint_arg("--reload-interval", optarg, 0, 86400); break;
        case O_DRAIN: o->drain_timeout = uint_arg("--drain-timeout", optarg, 0, 86400); break;
        case O_QUIET: o->quiet = true; break;
        case 'h':
        case O_HELP: fputs(help_text, stdout); exit(0);
        case ':': die("option '%s' needs a value (see recite serve --help)", argv[optind - 1]);
        default: die("unknown option '%s' (see recite serve --help)", argv[optind - 1]);
        }
        if (slot && !serve_act_parse(slot, optarg))
            die("%s expects pass, cite, redact or block, not '%s'", slot_name, optarg);
    }
    if (optind < argc)
        die("unexpected argument '%s' (see recite serve --help)", argv[optind]);
    if (!o->index_dir)
        die("--index DIR is required (see recite serve --help)");
    if (o->upstream_key_file && !o->proxy_url)
        die("--upstream-key-file is only for --proxy");
    if (o->token_file)
        s->token = read_secret("--token-file", o->token_file), s->token_len = strlen(s->token);
    if (o->upstream_key_file)
        s->upstream_key = read_secret("--upstream-key-file", o->upstream_key_file);
    if (o->key_file) {
        recite_error err = {0};
        if (recite_key_read(&s->key, &s->key_len, o->key_file, &err) != RECITE_OK)
            die("--key %s", err.message);
    }
    if (o->proxy_url)
        s->upstream_base = upstream_base(o->proxy_url);
}

/* Waits up to the drain timeout for the requests in flight. */
static void drain(serve_server *s, struct MHD_Daemon *d)
{
    atomic_store(&s->draining, 1);
    MHD_socket fd = serve_mhd.MHD_quiesce_daemon_(d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    double until = serve_now() + s->opt.drain_timeout;
    while (atomic_load(&s->in_flight) > 0 && serve_now() < until) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    unsigned left = atomic_load(&s->in_flight);
    if (left && !s->opt.quiet)
        serve_log("%u requests still running after %u s: stopping anyway", left,
                  s->opt.drain_timeout);
}

int serve_main(int argc, char **argv)
{
    serve_server *s = calloc(1, sizeof *s);
    if (!s)
        die("out of memory");
    parse_options(s, argc, argv);
    s->started = serve_now();
    recite_error err = {0};
    if (serve_gen_init(s, &err) != RECITE_OK)
        die("%s", err.message[0] ? err.message : recite_strerror(err.code));
    if (!(s->sessions = serve_sessions_new(s)))
        die("out of memory");
    char why[256];
    if (s->upstream_base && !serve_proxy_global_init(why, sizeof why))
        die("--proxy needs libcurl: %s", why);
    /* jansson seeds its hash tables on first use: seed it before there are threads. */
    json_object_seed(0);
    /* Signals go to this thread only: block them before any other thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    unsigned port = 0;
    struct MHD_Daemon *d = serve_http_start(s, &port, &err);
    if (!d)
        die("%s", err.message);
    /* Warned once the address is known good: a bad one is one error line, not a warning too. */
    if (!is_loopback(s->opt.listen) && !s->token && !s->opt.quiet)
        serve_log("warning: listening on %s without --token-file: anyone who can reach it may "
                  "use it",
                  s->opt.listen);
    serve_gen *g = serve_gen_acquire(s);
    if (!s->opt.quiet) {
        char host[256];
        const char *colon = strrchr(s->opt.listen, ':');
        snprintf(host, sizeof host, "%.*s", (int)(colon - s->opt.listen), s->opt.listen);
        serve_log("listening on http://%s:%u (index %s: %llu works, leak bound %u words%s%s)", host,
                  port, s->opt.index_dir, (unsigned long long)g->stats.works, g->leak_prose,
                  s->upstream_base ? "; proxy to " : "", s->upstream_base ? s->upstream_base : "");
    }
    serve_gen_release(g);
    double next_check = serve_now() + s->opt.reload_interval;
    for (;;) {
        struct timespec wait = {1, 0};
        int sig = sigtimedwait(&sigs, NULL, &wait);
        if (sig == SIGTERM || sig == SIGINT) {
            if (!s->opt.quiet)
                serve_log("%s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        }
        bool force = sig == SIGHUP;
        if (force || (s->opt.reload_interval && serve_now() >= next_check)) {
            next_check = serve_now() + s->opt.reload_interval;
            int rc = serve_gen_reload(s, force, &err);
            if (rc != 0 && !s->opt.quiet) {
                if (rc > 0) {
                    g = serve_gen_acquire(s);
                    serve_log("reloaded: generation %llu, %llu works",
                              (unsigned long long)g->number, (unsigned long long)g->stats.works);
                    serve_gen_release(g);
                } else {
                    serve_log("reload failed, keeping the index in use: %s", err.message);
                }
            }
        }
        serve_sessions_expire(s->sessions);
    }
    drain(s, d);
    serve_mhd.MHD_stop_daemon_(d);
    serve_sessions_free(s->sessions);
    serve_gen_shutdown(s);
    serve_proxy_global_cleanup();
    free(s->token);
    free(s->upstream_key);
    free(s->upstream_base);
    free(s->key);
    if (!s->opt.quiet)
        serve_log("stopped");
    free(s);
    return 0;
}
