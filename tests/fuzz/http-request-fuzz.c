/* libFuzzer target for the HTTP parser: any bytes as what a client sends on
 * the API socket, fed in pieces whose sizes come from the input itself, the
 * way the server feeds what each read returns. Then the same bytes as a
 * response, as vireo-remote reads one. Nothing may crash, leak or read out
 * of bounds, and every message must be well formed. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(enum http_kind kind, const uint8_t *data, size_t size, size_t step)
{
    struct http_parser *p = http_parser_new(kind);
    size_t off = 0;

    while (off < size) {
        size_t used = 0, n = step ? MIN(step, size - off) : size - off;
        enum http_parse_result r = http_parser_feed(p, data + off, n, &used);

        if (used > n)
            abort();
        off += used;
        if (r == HTTP_PARSE_ERROR) {
            unsigned int st = http_parser_error_status(p);
            if (st < 400 || st > 599 || !http_parser_error(p))
                abort();
            break;
        }
        http_parser_take_expect_continue(p);
        if (r == HTTP_PARSE_DONE) {
            struct http_message *m = http_parser_take(p);
            if (!m || m->body[m->body_len] != '\0' ||
                (kind == HTTP_KIND_REQUEST && (!m->path || m->path[0] != '/')))
                abort();
            http_message_free(m);
        } else if (used != n) {
            abort(); /* MORE takes everything it was given */
        }
    }
    if (http_parser_finish(p) == HTTP_PARSE_DONE)
        http_message_free(http_parser_take(p));
    http_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t step = size ? data[0] % 17 : 0;

    run(HTTP_KIND_REQUEST, data, size, 0);
    run(HTTP_KIND_REQUEST, data, size, step ? step : 1);
    run(HTTP_KIND_RESPONSE, data, size, step);
    return 0;
}
