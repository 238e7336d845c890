/* HTTP/1.1 message parsing and writing for the control channel. Strict on
 * framing (one Content-Length, no chunked bodies, no obs-fold, CRLF line
 * ends) so that no two readers can disagree on where a message ends. */
#include "config.h"

#include "api/http.h"

#include <string.h>

enum parser_state {
    P_HEAD,     /* collecting the start line and header fields */
    P_BODY,     /* collecting Content-Length bytes */
    P_BODY_EOF, /* a response delimited by the connection's close */
    P_DONE,
    P_ERROR,
};

struct http_parser {
    enum http_kind kind;
    enum parser_state state;
    size_t max_head;
    size_t max_body;
    char *head;
    size_t head_len;
    unsigned int crlf; /* progress through "\r\n\r\n" */
    bool start_line_done;
    struct http_message *msg;
    size_t body_want;
    bool expect_continue;
    unsigned int err_status;
    char err[160];
};

static const char *const method_names[] = {
    [HTTP_METHOD_OTHER] = "",      [HTTP_METHOD_GET] = "GET",
    [HTTP_METHOD_HEAD] = "HEAD",   [HTTP_METHOD_PUT] = "PUT",
    [HTTP_METHOD_POST] = "POST",   [HTTP_METHOD_DELETE] = "DELETE",
    [HTTP_METHOD_PATCH] = "PATCH", [HTTP_METHOD_OPTIONS] = "OPTIONS",
};

const char *http_method_name(enum http_method m)
{
    if ((size_t)m < G_N_ELEMENTS(method_names))
        return method_names[m];
    return "";
}

const char *http_status_reason(unsigned int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    }
    return "Unknown";
}

const char *http_message_header(const struct http_message *m, const char *name)
{
    for (size_t i = 0; i < m->n_headers; i++) {
        if (!g_ascii_strcasecmp(m->headers[i].name, name))
            return m->headers[i].value;
    }
    return NULL;
}

void http_message_free(struct http_message *m)
{
    if (!m)
        return;
    g_free(m->method_name);
    g_free(m->path);
    g_free(m->query);
    g_free(m->reason);
    for (size_t i = 0; i < m->n_headers; i++) {
        g_free(m->headers[i].name);
        g_free(m->headers[i].value);
    }
    g_free(m->headers);
    g_free(m->body);
    g_free(m);
}

struct http_parser *http_parser_new(enum http_kind kind)
{
    struct http_parser *p = g_new0(struct http_parser, 1);

    p->kind = kind;
    p->max_head = HTTP_MAX_HEAD;
    p->max_body = HTTP_MAX_BODY;
    p->head = g_malloc(p->max_head + 1);
    return p;
}

void http_parser_free(struct http_parser *p)
{
    if (!p)
        return;
    http_message_free(p->msg);
    g_free(p->head);
    g_free(p);
}

void http_parser_set_limits(struct http_parser *p, size_t max_head, size_t max_body)
{
    g_return_if_fail(p->state == P_HEAD && p->head_len == 0);
    p->max_head = max_head;
    p->max_body = max_body;
    p->head = g_realloc(p->head, max_head + 1);
}

static enum http_parse_result fail(struct http_parser *p, unsigned int status, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static enum http_parse_result fail(struct http_parser *p, unsigned int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    p->err_status = status;
    p->state = P_ERROR;
    g_clear_pointer(&p->msg, http_message_free);
    return HTTP_PARSE_ERROR;
}

unsigned int http_parser_error_status(const struct http_parser *p)
{
    return p->state == P_ERROR ? p->err_status : 0;
}

const char *http_parser_error(const struct http_parser *p)
{
    return p->state == P_ERROR ? p->err : NULL;
}

bool http_parser_idle(const struct http_parser *p)
{
    return p->state == P_HEAD && p->head_len == 0;
}

bool http_parser_take_expect_continue(struct http_parser *p)
{
    bool v = p->expect_continue;

    p->expect_continue = false;
    return v;
}

static bool is_tchar(unsigned char c)
{
    return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_tchar((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* "HTTP/1.1" -> 1; -1 if not HTTP at all; -2 for another HTTP version. */
static int parse_version(const char *s)
{
    if (strncmp(s, "HTTP/", 5) || !g_ascii_isdigit(s[5]) || s[6] != '.' || !g_ascii_isdigit(s[7]) ||
        s[8] != '\0')
        return -1;
    if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
        return -2;
    return s[7] - '0';
}

static enum http_method method_from_name(const char *name)
{
    for (size_t i = 1; i < G_N_ELEMENTS(method_names); i++) {
        if (!strcmp(name, method_names[i]))
            return (enum http_method)i;
    }
    return HTTP_METHOD_OTHER;
}

static enum http_parse_result parse_request_line(struct http_parser *p, char *line)
{
    struct http_message *m = p->msg;
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    char *target, *q;
    int minor;

    if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
        return fail(p, 400, "malformed request line");
    *sp1 = *sp2 = '\0';
    target = sp1 + 1;
    if (!is_token(line, strlen(line)))
        return fail(p, 400, "malformed method");
    minor = parse_version(sp2 + 1);
    if (minor == -2)
        return fail(p, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    if (minor < 0)
        return fail(p, 400, "malformed HTTP version");
    if (target[0] != '/')
        return fail(p, 400, "request target must be an absolute path");
    for (const char *c = target; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return fail(p, 400, "invalid character in request target");
    }
    m->method_name = g_strdup(line);
    m->method = method_from_name(line);
    m->version_minor = (unsigned int)minor;
    q = strchr(target, '?');
    if (q) {
        m->query = g_strdup(q + 1);
        *q = '\0';
    }
    m->path = g_strdup(target);
    return HTTP_PARSE_MORE;
}

static enum http_parse_result parse_status_line(struct http_parser *p, char *line)
{
    struct http_message *m = p->msg;
    char *sp = strchr(line, ' ');
    int minor;

    if (!sp)
        return fail(p, 400, "malformed status line");
    *sp = '\0';
    minor = parse_version(line);
    if (minor < 0)
        return fail(p, minor == -2 ? 505 : 400, "malformed HTTP version in status line");
    if (!g_ascii_isdigit(sp[1]) || !g_ascii_isdigit(sp[2]) || !g_ascii_isdigit(sp[3]) ||
        (sp[4] != ' ' && sp[4] != '\0') || sp[1] == '0')
        return fail(p, 400, "malformed status code");
    m->status = (unsigned int)((sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0'));
    m->reason = g_strdup(sp[4] ? sp + 5 : "");
    m->version_minor = (unsigned int)minor;
    return HTTP_PARSE_MORE;
}

static bool parse_content_length(const char *v, size_t *out)
{
    size_t n = 0;

    if (!*v || strlen(v) > 18)
        return false;
    for (; *v; v++) {
        if (!g_ascii_isdigit(*v))
            return false;
        n = n * 10 + (size_t)(*v - '0');
    }
    *out = n;
    return true;
}

/* Connection: a comma-separated list of tokens. */
static void apply_connection(const char *v, bool *close, bool *keep)
{
    g_auto(GStrv) toks = g_strsplit(v, ",", -1);

    for (char **t = toks; *t; t++) {
        g_strstrip(*t);
        if (!g_ascii_strcasecmp(*t, "close"))
            *close = true;
        else if (!g_ascii_strcasecmp(*t, "keep-alive"))
            *keep = true;
    }
}

static bool body_forbidden(const struct http_message *m)
{
    return m->status / 100 == 1 || m->status == 204 || m->status == 304;
}

/* Parses the complete head in p->head (CRLF CRLF included). */
static enum http_parse_result parse_head(struct http_parser *p)
{
    struct http_message *m;
    char *line, *next;
    bool have_cl = false, have_te = false, conn_close = false, conn_keep = false;
    const char *te = NULL, *expect = NULL;
    size_t cl = 0;
    enum http_parse_result r;

    if (memchr(p->head, '\0', p->head_len))
        return fail(p, 400, "NUL byte in message head");
    p->head[p->head_len] = '\0';
    p->msg = m = g_new0(struct http_message, 1);

    line = p->head;
    next = strstr(line, "\r\n");
    *next = '\0';
    if (strpbrk(line, "\r\n"))
        return fail(p, 400, "bare CR or LF in start line");
    r = p->kind == HTTP_KIND_REQUEST ? parse_request_line(p, line) : parse_status_line(p, line);
    if (r == HTTP_PARSE_ERROR)
        return r;

    m->headers = g_new0(struct http_header, HTTP_MAX_HEADERS);
    for (line = next + 2; *line; line = next + 2) {
        char *colon, *value, *end;

        next = strstr(line, "\r\n");
        *next = '\0';
        if (!*line)
            break; /* the empty line that ends the head */
        if (strpbrk(line, "\r\n"))
            return fail(p, 400, "bare CR or LF in a header field");
        if (*line == ' ' || *line == '\t')
            return fail(p, 400, "folded header lines are not accepted");
        colon = strchr(line, ':');
        if (!colon || !is_token(line, (size_t)(colon - line)))
            return fail(p, 400, "malformed header field name");
        if (m->n_headers == HTTP_MAX_HEADERS)
            return fail(p, 431, "more than %u header fields", HTTP_MAX_HEADERS);
        value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        end = value + strlen(value);
        while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        for (const char *c = value; *c; c++) {
            if ((unsigned char)*c < 0x20 && *c != '\t')
                return fail(p, 400, "control character in header field '%.*s'", (int)(colon - line),
                            line);
            if ((unsigned char)*c == 0x7f)
                return fail(p, 400, "control character in header field '%.*s'", (int)(colon - line),
                            line);
        }
        m->headers[m->n_headers].name = g_strndup(line, (gsize)(colon - line));
        m->headers[m->n_headers].value = g_strdup(value);
        m->n_headers++;

        if (!g_ascii_strncasecmp(line, "Content-Length", 14) && colon - line == 14) {
            if (have_cl)
                return fail(p, 400, "more than one Content-Length");
            if (!parse_content_length(value, &cl))
                return fail(p, 400, "malformed Content-Length '%.40s'", value);
            have_cl = true;
        } else if (!g_ascii_strncasecmp(line, "Transfer-Encoding", 17) && colon - line == 17) {
            have_te = true;
            te = m->headers[m->n_headers - 1].value;
        } else if (!g_ascii_strncasecmp(line, "Connection", 10) && colon - line == 10) {
            apply_connection(value, &conn_close, &conn_keep);
        } else if (!g_ascii_strncasecmp(line, "Expect", 6) && colon - line == 6) {
            expect = m->headers[m->n_headers - 1].value;
        }
    }

    if (have_te && have_cl)
        return fail(p, 400, "both Transfer-Encoding and Content-Length");
    if (have_te) {
        if (g_ascii_strcasecmp(te, "chunked") == 0 || strstr(te, "chunked"))
            return fail(p, 411, "chunked bodies are not accepted; send a Content-Length");
        return fail(p, 501, "Transfer-Encoding '%.40s' is not supported", te);
    }
    if (have_cl && cl > p->max_body)
        return fail(p, 413, "body of %zu bytes is over the limit of %zu", cl, p->max_body);
    if (p->kind == HTTP_KIND_REQUEST && expect) {
        if (g_ascii_strcasecmp(expect, "100-continue"))
            return fail(p, 417, "unsupported expectation '%.40s'", expect);
        p->expect_continue = cl > 0;
    }

    m->keep_alive = m->version_minor == 1 ? !conn_close : (conn_keep && !conn_close);
    if (p->kind == HTTP_KIND_RESPONSE && body_forbidden(m)) {
        cl = 0;
    } else if (p->kind == HTTP_KIND_RESPONSE && !have_cl) {
        m->keep_alive = false;
        p->state = P_BODY_EOF;
        m->body = g_malloc(1);
        return HTTP_PARSE_MORE;
    }
    p->body_want = cl;
    m->body = g_malloc(cl + 1);
    m->body[0] = '\0';
    p->state = cl ? P_BODY : P_DONE;
    return p->state == P_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_MORE;
}

static enum http_parse_result feed_head(struct http_parser *p, const uint8_t *d, size_t len,
                                        size_t *used)
{
    static const char end[] = "\r\n\r\n";
    size_t i;

    for (i = 0; i < len; i++) {
        uint8_t b = d[i];

        /* RFC 9112 2.2: empty lines before a request line are ignored. */
        if (p->head_len == 0 && p->kind == HTTP_KIND_REQUEST && (b == '\r' || b == '\n'))
            continue;
        if (p->head_len == p->max_head) {
            *used = i;
            if (!p->start_line_done && p->kind == HTTP_KIND_REQUEST)
                return fail(p, 414, "request line longer than %zu bytes", p->max_head);
            return fail(p, 431, "message head longer than %zu bytes", p->max_head);
        }
        if (b == '\n' && (p->head_len == 0 || p->head[p->head_len - 1] != '\r')) {
            *used = i;
            return fail(p, 400, "bare LF in message head (lines end with CRLF)");
        }
        p->head[p->head_len++] = (char)b;
        if (b == (uint8_t)end[p->crlf])
            p->crlf++;
        else
            p->crlf = b == '\r' ? 1 : 0;
        if (p->crlf == 2)
            p->start_line_done = true;
        if (p->crlf == 4) {
            *used = i + 1;
            return parse_head(p);
        }
    }
    *used = len;
    return HTTP_PARSE_MORE;
}

enum http_parse_result http_parser_feed(struct http_parser *p, const void *data, size_t len,
                                        size_t *consumed)
{
    const uint8_t *d = data;
    size_t used = 0;
    enum http_parse_result r = HTTP_PARSE_MORE;

    *consumed = 0;
    switch (p->state) {
    case P_ERROR:
        return HTTP_PARSE_ERROR;
    case P_DONE:
        return HTTP_PARSE_DONE;
    case P_HEAD:
        r = feed_head(p, d, len, &used);
        *consumed = used;
        if (r != HTTP_PARSE_MORE || (p->state != P_BODY && p->state != P_BODY_EOF))
            return r;
        d += used;
        len -= used;
        break;
    default:
        break;
    }

    if (p->state == P_BODY) {
        size_t take = MIN(len, p->body_want - p->msg->body_len);

        memcpy(p->msg->body + p->msg->body_len, d, take);
        p->msg->body_len += take;
        p->msg->body[p->msg->body_len] = '\0';
        *consumed += take;
        if (p->msg->body_len == p->body_want) {
            p->state = P_DONE;
            return HTTP_PARSE_DONE;
        }
        return HTTP_PARSE_MORE;
    }
    if (p->state == P_BODY_EOF) {
        struct http_message *m = p->msg;

        if (m->body_len + len > p->max_body)
            return fail(p, 413, "body over the limit of %zu bytes", p->max_body);
        m->body = g_realloc(m->body, m->body_len + len + 1);
        memcpy(m->body + m->body_len, d, len);
        m->body_len += len;
        m->body[m->body_len] = '\0';
        *consumed += len;
    }
    return HTTP_PARSE_MORE;
}

enum http_parse_result http_parser_finish(struct http_parser *p)
{
    switch (p->state) {
    case P_BODY_EOF:
        p->state = P_DONE;
        return HTTP_PARSE_DONE;
    case P_DONE:
        return HTTP_PARSE_DONE;
    case P_ERROR:
        return HTTP_PARSE_ERROR;
    case P_HEAD:
        if (p->head_len == 0)
            return fail(p, 400, "connection closed before a message");
        return fail(p, 400, "connection closed in the middle of the message head");
    case P_BODY:
        return fail(p, 400, "connection closed after %zu of %zu body bytes", p->msg->body_len,
                    p->body_want);
    }
    return HTTP_PARSE_ERROR;
}

struct http_message *http_parser_take(struct http_parser *p)
{
    struct http_message *m;

    if (p->state != P_DONE)
        return NULL;
    m = g_steal_pointer(&p->msg);
    p->state = P_HEAD;
    p->head_len = 0;
    p->crlf = 0;
    p->start_line_done = false;
    p->body_want = 0;
    p->expect_continue = false;
    return m;
}

void http_response_append(GString *out, unsigned int status, const char *content_type,
                          const void *body, size_t body_len, bool close, const char *extra_headers)
{
    bool no_body = status / 100 == 1 || status == 204 || status == 304;

    g_string_append_printf(out, "HTTP/1.1 %u %s\r\nServer: Vireo API\r\n", status,
                           http_status_reason(status));
    if (extra_headers)
        g_string_append(out, extra_headers);
    if (close)
        g_string_append(out, "Connection: close\r\n");
    if (!no_body) {
        if (content_type && body_len)
            g_string_append_printf(out, "Content-Type: %s\r\n", content_type);
        g_string_append_printf(out, "Content-Length: %zu\r\n", body_len);
    }
    g_string_append(out, "\r\n");
    if (!no_body && body_len)
        g_string_append_len(out, body, (gssize)body_len);
}

void http_request_append(GString *out, const char *method, const char *path,
                         const char *content_type, const void *body, size_t body_len, bool close)
{
    g_string_append_printf(out, "%s %s HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n", method,
                           path);
    if (close)
        g_string_append(out, "Connection: close\r\n");
    if (content_type && body_len)
        g_string_append_printf(out, "Content-Type: %s\r\n", content_type);
    if (body_len || !g_str_equal(method, "GET"))
        g_string_append_printf(out, "Content-Length: %zu\r\n", body_len);
    g_string_append(out, "\r\n");
    if (body_len)
        g_string_append_len(out, body, (gssize)body_len);
}
