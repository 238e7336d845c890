/* Tests for vmm/api/http.c: requests fed whole and byte by byte, pipelining,
 * limits, malformed framing, keep-alive rules, responses and the writers. */
#include "api/http.h"

#include <glib.h>
#include <string.h>

/* Feeds all of `data` (in pieces of `step` bytes) and expects one message. */
static struct http_message *parse_one(enum http_kind kind, const char *data, size_t step)
{
    g_autoptr(http_parser) p = http_parser_new(kind);
    size_t len = strlen(data), off = 0;
    enum http_parse_result r = HTTP_PARSE_MORE;

    while (off < len) {
        size_t used, n = MIN(step, len - off);
        r = http_parser_feed(p, data + off, n, &used);
        g_assert_cmpint(r, !=, HTTP_PARSE_ERROR);
        off += used;
        if (r == HTTP_PARSE_DONE)
            break;
        g_assert_cmpuint(used, ==, n);
    }
    g_assert_cmpint(r, ==, HTTP_PARSE_DONE);
    g_assert_cmpuint(off, ==, len);
    return http_parser_take(p);
}

/* Feeds `data` and expects an error with `status`. */
static void expect_error(enum http_kind kind, const char *data, size_t len, unsigned int status)
{
    g_autoptr(http_parser) p = http_parser_new(kind);
    size_t used;
    enum http_parse_result r = http_parser_feed(p, data, len, &used);

    if (r == HTTP_PARSE_MORE)
        r = http_parser_finish(p);
    g_assert_cmpint(r, ==, HTTP_PARSE_ERROR);
    g_assert_cmpuint(http_parser_error_status(p), ==, status);
    g_assert_nonnull(http_parser_error(p));
    /* Errors are final. */
    g_assert_cmpint(http_parser_feed(p, "GET / HTTP/1.1\r\n\r\n", 18, &used), ==, HTTP_PARSE_ERROR);
}

static void expect_request_error(const char *data, unsigned int status)
{
    expect_error(HTTP_KIND_REQUEST, data, strlen(data), status);
}

static const char put_req[] = "PUT /api/v1/vm.create?x=1 HTTP/1.1\r\n"
                              "Host: localhost\r\n"
                              "Content-Type: application/json\r\n"
                              "X-Empty:\r\n"
                              "Content-Length: 13\r\n"
                              "\r\n"
                              "{\"a\": \"b c\"}\n";

static void check_put(const struct http_message *m)
{
    g_assert_cmpint(m->method, ==, HTTP_METHOD_PUT);
    g_assert_cmpstr(m->method_name, ==, "PUT");
    g_assert_cmpstr(m->path, ==, "/api/v1/vm.create");
    g_assert_cmpstr(m->query, ==, "x=1");
    g_assert_cmpuint(m->version_minor, ==, 1);
    g_assert_true(m->keep_alive);
    g_assert_cmpuint(m->n_headers, ==, 4);
    g_assert_cmpstr(http_message_header(m, "content-type"), ==, "application/json");
    g_assert_cmpstr(http_message_header(m, "X-EMPTY"), ==, "");
    g_assert_null(http_message_header(m, "Accept"));
    g_assert_cmpuint(m->body_len, ==, 13);
    g_assert_cmpmem(m->body, m->body_len, "{\"a\": \"b c\"}\n", 13);
    g_assert_cmpint(m->body[m->body_len], ==, '\0');
}

static void test_request_whole(void)
{
    g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, put_req, SIZE_MAX);

    check_put(m);
}

static void test_request_byte_by_byte(void)
{
    g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, put_req, 1);
    g_autoptr(http_message) g =
        parse_one(HTTP_KIND_REQUEST, "GET /api/v1/vmm.ping HTTP/1.1\r\nHost: x\r\n\r\n", 1);

    check_put(m);
    g_assert_cmpint(g->method, ==, HTTP_METHOD_GET);
    g_assert_null(g->query);
    g_assert_cmpuint(g->body_len, ==, 0);
    g_assert_nonnull(g->body);
}

static void test_pipelined(void)
{
    static const char two[] = "GET /a HTTP/1.1\r\n\r\n"
                              "PUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
                              "\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n";
    g_autoptr(http_parser) p = http_parser_new(HTTP_KIND_REQUEST);
    const char *paths[] = {"/a", "/b", "/c"};
    size_t off = 0, len = strlen(two);

    for (int i = 0; i < 3; i++) {
        g_autoptr(http_message) m = NULL;
        size_t used;

        g_assert_cmpint(http_parser_feed(p, two + off, len - off, &used), ==, HTTP_PARSE_DONE);
        off += used;
        /* A complete message is not consumed into until it is taken. */
        g_assert_cmpint(http_parser_feed(p, two + off, len - off, &used), ==, HTTP_PARSE_DONE);
        g_assert_cmpuint(used, ==, 0);
        m = http_parser_take(p);
        g_assert_cmpstr(m->path, ==, paths[i]);
        g_assert_cmpint(m->keep_alive, ==, i < 2);
        if (i == 1)
            g_assert_cmpmem(m->body, m->body_len, "xyz", 3);
        g_assert_true(http_parser_idle(p));
    }
    g_assert_cmpuint(off, ==, len);
    g_assert_null(http_parser_take(p));
}

static void test_limits(void)
{
    g_autoptr(GString) s = g_string_new("GET /");
    g_autoptr(http_parser) p = http_parser_new(HTTP_KIND_REQUEST);
    size_t used;

    /* A request line that never ends: 414. */
    for (unsigned int i = 0; i < HTTP_MAX_HEAD; i++)
        g_string_append_c(s, 'a');
    expect_error(HTTP_KIND_REQUEST, s->str, s->len, 414);

    /* Header fields over 8 KiB: 431, found before the whole block arrives. */
    g_string_assign(s, "GET / HTTP/1.1\r\n");
    while (s->len <= HTTP_MAX_HEAD)
        g_string_append(s, "X-Filler: 0123456789abcdef0123456789abcdef\r\n");
    expect_error(HTTP_KIND_REQUEST, s->str, s->len, 431);

    /* A head of exactly the limit is fine. */
    g_string_assign(s, "GET / HTTP/1.1\r\nX: ");
    while (s->len < HTTP_MAX_HEAD - 4)
        g_string_append_c(s, 'v');
    g_string_append(s, "\r\n\r\n");
    g_assert_cmpuint(s->len, ==, HTTP_MAX_HEAD);
    {
        g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, s->str, 1000);
        g_assert_cmpstr(m->path, ==, "/");
    }

    /* Too many fields: 431. */
    g_string_assign(s, "GET / HTTP/1.1\r\n");
    for (unsigned int i = 0; i <= HTTP_MAX_HEADERS; i++)
        g_string_append_printf(s, "X-%u: y\r\n", i);
    g_string_append(s, "\r\n");
    expect_error(HTTP_KIND_REQUEST, s->str, s->len, 431);

    /* A body over 1 MiB is refused from its Content-Length alone: 413. */
    g_string_printf(s, "PUT / HTTP/1.1\r\nContent-Length: %u\r\n\r\n", HTTP_MAX_BODY + 1);
    expect_error(HTTP_KIND_REQUEST, s->str, s->len, 413);
    g_string_printf(s, "PUT / HTTP/1.1\r\nContent-Length: %u\r\n\r\n", HTTP_MAX_BODY);
    g_assert_cmpint(http_parser_feed(p, s->str, s->len, &used), ==, HTTP_PARSE_MORE);

    /* Limits can be lowered per parser. */
    {
        g_autoptr(http_parser) q = http_parser_new(HTTP_KIND_REQUEST);
        static const char req[] = "PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
        http_parser_set_limits(q, 64, 10);
        g_assert_cmpint(http_parser_feed(q, req, strlen(req), &used), ==, HTTP_PARSE_ERROR);
        g_assert_cmpuint(http_parser_error_status(q), ==, 413);
    }
}

static void test_bad_request_lines(void)
{
    static const struct {
        const char *req;
        unsigned int status;
    } cases[] = {
        {"GET\r\n\r\n", 400},
        {"GET /\r\n\r\n", 400},
        {"GET  / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\n\r\n", 400},
        {"GET / HTTP/1.1 x\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\n\r\n", 400},
        {"GET x HTTP/1.1\r\n\r\n", 400},
        {"GET http://h/ HTTP/1.1\r\n\r\n", 400},
        {"GET /a\x01 HTTP/1.1\r\n\r\n", 400},
        {"GET /\x80 HTTP/1.1\r\n\r\n", 400},
        {"GET / FTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1x\r\n\r\n", 400},
        {"GET / http/1.1\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\n\r\n", 505},
        {"GET / HTTP/1.1\nHost: x\n\n", 400},
        {"GET / HTTP/1.1\r\nHost: x\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHo\rst: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n: x\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nExpect: teapot\r\n\r\n", 417},
        {"GET / HTTP/1.1\r\nHost: x\r\n", 400},                 /* closed mid-head */
        {"PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", 400}, /* closed mid-body */
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (g_test_verbose())
            g_test_message("case %zu: %s", i, cases[i].req);
        expect_request_error(cases[i].req, cases[i].status);
    }
    /* A NUL byte anywhere in the head. */
    expect_error(HTTP_KIND_REQUEST, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26, 400);
    /* Closing before anything is an error too, but a quiet one to the server. */
    expect_error(HTTP_KIND_REQUEST, "", 0, 400);
}

static void test_bad_lengths(void)
{
    static const struct {
        const char *headers;
        unsigned int status;
    } cases[] = {
        {"Content-Length: -1", 400},
        {"Content-Length: +1", 400},
        {"Content-Length: abc", 400},
        {"Content-Length: 1 2", 400},
        {"Content-Length: 0x10", 400},
        {"Content-Length:", 400},
        {"Content-Length: 99999999999999999999999", 400},
        {"Content-Length: 1\r\nContent-Length: 1", 400},
        {"Content-Length: 1\r\nContent-length: 2", 400},
        {"Content-Length: 3\r\nTransfer-Encoding: chunked", 400},
        {"Transfer-Encoding: chunked", 411},
        {"Transfer-Encoding: gzip, chunked", 411},
        {"Transfer-Encoding: gzip", 501},
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *req =
            g_strdup_printf("PUT /x HTTP/1.1\r\n%s\r\n\r\nabc", cases[i].headers);
        expect_request_error(req, cases[i].status);
    }
    /* Leading zeros and surrounding spaces are fine. */
    {
        g_autoptr(http_message) m =
            parse_one(HTTP_KIND_REQUEST, "PUT /x HTTP/1.1\r\nContent-Length:  003 \r\n\r\nabc", 2);
        g_assert_cmpuint(m->body_len, ==, 3);
    }
}

static void test_keep_alive(void)
{
    static const struct {
        const char *req;
        bool keep_alive;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n", true},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
        {"\r\n\r\nGET / HTTP/1.1\r\n\r\n", true}, /* stray CRLFs before a request */
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, cases[i].req, 3);
        g_assert_cmpint(m->keep_alive, ==, cases[i].keep_alive);
    }
}

static void test_methods(void)
{
    static const char *const names[] = {"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *req = g_strdup_printf("%s / HTTP/1.1\r\n\r\n", names[i]);
        g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, req, 5);
        g_assert_cmpstr(http_method_name(m->method), ==, names[i]);
    }
    {
        g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, "BREW / HTTP/1.1\r\n\r\n", 5);
        g_assert_cmpint(m->method, ==, HTTP_METHOD_OTHER);
        g_assert_cmpstr(m->method_name, ==, "BREW");
    }
    {
        /* Methods are case-sensitive. */
        g_autoptr(http_message) m = parse_one(HTTP_KIND_REQUEST, "get / HTTP/1.1\r\n\r\n", 5);
        g_assert_cmpint(m->method, ==, HTTP_METHOD_OTHER);
    }
}

static void test_expect_continue(void)
{
    static const char head[] =
        "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
    g_autoptr(http_parser) p = http_parser_new(HTTP_KIND_REQUEST);
    g_autoptr(http_message) m = NULL;
    size_t used;

    g_assert_cmpint(http_parser_feed(p, head, strlen(head), &used), ==, HTTP_PARSE_MORE);
    g_assert_false(http_parser_idle(p));
    g_assert_true(http_parser_take_expect_continue(p));
    g_assert_false(http_parser_take_expect_continue(p));
    g_assert_cmpint(http_parser_feed(p, "ok", 2, &used), ==, HTTP_PARSE_DONE);
    m = http_parser_take(p);
    g_assert_cmpmem(m->body, m->body_len, "ok", 2);
}

static void test_responses(void)
{
    g_autoptr(http_message) ok =
        parse_one(HTTP_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n{}\r\n", 1);
    g_autoptr(http_message) nc =
        parse_one(HTTP_KIND_RESPONSE, "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\n", 7);
    g_autoptr(http_message) noreason =
        parse_one(HTTP_KIND_RESPONSE, "HTTP/1.0 404\r\nContent-Length: 0\r\n\r\n", 7);
    g_autoptr(http_parser) p = http_parser_new(HTTP_KIND_RESPONSE);
    g_autoptr(http_message) eof = NULL;
    static const char until_close[] = "HTTP/1.1 500 Oops\r\n\r\nsome text";
    size_t used;

    g_assert_cmpuint(ok->status, ==, 200);
    g_assert_cmpstr(ok->reason, ==, "OK");
    g_assert_cmpuint(ok->body_len, ==, 4);
    g_assert_cmpuint(nc->status, ==, 204);
    g_assert_cmpuint(nc->body_len, ==, 0);
    g_assert_cmpuint(noreason->status, ==, 404);
    g_assert_cmpstr(noreason->reason, ==, "");

    /* No Content-Length: the body runs to the close. */
    g_assert_cmpint(http_parser_feed(p, until_close, strlen(until_close), &used), ==,
                    HTTP_PARSE_MORE);
    g_assert_cmpuint(used, ==, strlen(until_close));
    g_assert_cmpint(http_parser_finish(p), ==, HTTP_PARSE_DONE);
    eof = http_parser_take(p);
    g_assert_cmpuint(eof->status, ==, 500);
    g_assert_false(eof->keep_alive);
    g_assert_cmpstr((char *)eof->body, ==, "some text");

    expect_error(HTTP_KIND_RESPONSE, "HTTP/1.1 20 OK\r\n\r\n", 18, 400);
    expect_error(HTTP_KIND_RESPONSE, "HTTP/1.1 099 x\r\n\r\n", 18, 400);
    expect_error(HTTP_KIND_RESPONSE, "HTTP/1.1 2000\r\n\r\n", 17, 400);
    expect_error(HTTP_KIND_RESPONSE, "ICY 200 OK\r\n\r\n", 14, 400);
    expect_error(HTTP_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 47,
                 411);
}

static void test_writers(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(http_parser) p = http_parser_new(HTTP_KIND_RESPONSE);
    g_autoptr(http_message) r1 = NULL, r2 = NULL;
    g_autoptr(http_message) q = NULL;
    size_t used, off = 0;

    http_response_append(out, 200, "application/json", "{\"x\":1}", 7, false, "Allow: GET\r\n");
    http_response_append(out, 204, "application/json", NULL, 0, true, NULL);
    g_assert_null(strstr(out->str + out->len - 40, "Content-Length")); /* none on 204 */
    g_assert_cmpint(http_parser_feed(p, out->str, out->len, &used), ==, HTTP_PARSE_DONE);
    off = used;
    r1 = http_parser_take(p);
    g_assert_cmpuint(r1->status, ==, 200);
    g_assert_true(r1->keep_alive);
    g_assert_cmpstr(http_message_header(r1, "Allow"), ==, "GET");
    g_assert_cmpstr(http_message_header(r1, "Content-Type"), ==, "application/json");
    g_assert_cmpstr((char *)r1->body, ==, "{\"x\":1}");
    g_assert_cmpint(http_parser_feed(p, out->str + off, out->len - off, &used), ==,
                    HTTP_PARSE_DONE);
    r2 = http_parser_take(p);
    g_assert_cmpuint(r2->status, ==, 204);
    g_assert_false(r2->keep_alive);

    g_string_truncate(out, 0);
    http_request_append(out, "PUT", "/api/v1/vm.create", "application/json", "{}", 2, true);
    q = parse_one(HTTP_KIND_REQUEST, out->str, 4);
    g_assert_cmpint(q->method, ==, HTTP_METHOD_PUT);
    g_assert_cmpstr(q->path, ==, "/api/v1/vm.create");
    g_assert_false(q->keep_alive);
    g_assert_cmpstr((char *)q->body, ==, "{}");
    g_assert_cmpstr(http_status_reason(431), ==, "Request Header Fields Too Large");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/http/request-whole", test_request_whole);
    g_test_add_func("/http/request-byte-by-byte", test_request_byte_by_byte);
    g_test_add_func("/http/pipelined", test_pipelined);
    g_test_add_func("/http/limits", test_limits);
    g_test_add_func("/http/bad-request-lines", test_bad_request_lines);
    g_test_add_func("/http/bad-lengths", test_bad_lengths);
    g_test_add_func("/http/keep-alive", test_keep_alive);
    g_test_add_func("/http/methods", test_methods);
    g_test_add_func("/http/expect-continue", test_expect_continue);
    g_test_add_func("/http/responses", test_responses);
    g_test_add_func("/http/writers", test_writers);
    return g_test_run();
}
