/* A small, strict HTTP/1.1 codec for the control channel: an incremental
 * parser (a state machine over bytes, for requests on the server side and
 * responses on the client side) and writers for both directions. No I/O. */
#ifndef VIREO_VMM_API_HTTP_H
#define VIREO_VMM_API_HTTP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD    (8u * 1024)    /* start line + header fields */
#define HTTP_MAX_BODY    (1024u * 1024) /* Content-Length */
#define HTTP_MAX_HEADERS 64u

enum http_kind {
    HTTP_KIND_REQUEST,
    HTTP_KIND_RESPONSE,
};

enum http_method {
    HTTP_METHOD_OTHER, /* a valid token we do not know; see method_name */
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_PUT,
    HTTP_METHOD_POST,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_PATCH,
    HTTP_METHOD_OPTIONS,
};

struct http_header {
    char *name;
    char *value;
};

struct http_message {
    /* requests */
    enum http_method method;
    char *method_name;
    char *path;  /* origin-form, without the query */
    char *query; /* after '?', or NULL */
    /* responses */
    unsigned int status;
    char *reason;
    /* both */
    unsigned int version_minor; /* HTTP/1.0 or HTTP/1.1 */
    bool keep_alive;            /* the connection may carry another message */
    struct http_header *headers;
    size_t n_headers;
    uint8_t *body; /* always NUL-terminated (not counted in body_len) */
    size_t body_len;
};

const char *http_message_header(const struct http_message *m, const char *name);
void http_message_free(struct http_message *m);
typedef struct http_message http_message;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(http_message, http_message_free)

enum http_parse_result {
    HTTP_PARSE_MORE,  /* every byte was taken; the message is not complete */
    HTTP_PARSE_DONE,  /* a message is complete: http_parser_take() */
    HTTP_PARSE_ERROR, /* the stream is unusable: http_parser_error_status() */
};

struct http_parser;

struct http_parser *http_parser_new(enum http_kind kind);
void http_parser_free(struct http_parser *p);
typedef struct http_parser http_parser;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(http_parser, http_parser_free)

/* Overrides HTTP_MAX_HEAD and HTTP_MAX_BODY for this parser. */
void http_parser_set_limits(struct http_parser *p, size_t max_head, size_t max_body);

/* Consumes bytes up to the end of one message and tells in *consumed how
 * many it took; the bytes after a complete message belong to the next one
 * (pipelining) and must be fed again after http_parser_take(). */
enum http_parse_result http_parser_feed(struct http_parser *p, const void *data, size_t len,
                                        size_t *consumed);

/* The peer closed its side. Ends a response that is delimited by the close;
 * anything else incomplete becomes an error. */
enum http_parse_result http_parser_finish(struct http_parser *p);

/* After HTTP_PARSE_DONE: the message (caller frees it); the parser is then
 * ready for the next message. NULL if no message is complete. */
struct http_message *http_parser_take(struct http_parser *p);

/* After HTTP_PARSE_ERROR: the status to answer with (400, 408, 411, 413,
 * 414, 417, 431, 501, 505) and a one-line reason. Errors are final. */
unsigned int http_parser_error_status(const struct http_parser *p);
const char *http_parser_error(const struct http_parser *p);

/* True when no byte of the next message has arrived yet. */
bool http_parser_idle(const struct http_parser *p);

/* True once when a request's head asked "Expect: 100-continue" and its body
 * is still to come: the server answers HTTP_CONTINUE_RESPONSE first. */
bool http_parser_take_expect_continue(struct http_parser *p);
#define HTTP_CONTINUE_RESPONSE "HTTP/1.1 100 Continue\r\n\r\n"

const char *http_method_name(enum http_method m);
const char *http_status_reason(unsigned int status);

/* Appends a response. Content-Length is always sent except for 1xx, 204
 * and 304; `extra_headers` is NULL or complete "Name: value\r\n" lines. */
void http_response_append(GString *out, unsigned int status, const char *content_type,
                          const void *body, size_t body_len, bool close, const char *extra_headers);

/* Appends a request with origin-form `path`. */
void http_request_append(GString *out, const char *method, const char *path,
                         const char *content_type, const void *body, size_t body_len, bool close);

#endif
