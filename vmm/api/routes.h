/* Routing of control API requests to the backend (internal to the API
 * server; separate so that the server file holds only the I/O). */
#ifndef VIREO_VMM_API_ROUTES_H
#define VIREO_VMM_API_ROUTES_H

#include "api/http.h"
#include "api/server.h"

struct api_reply {
    unsigned int status;
    char *body;        /* JSON (g_free it), or NULL */
    const char *allow; /* an "Allow: ...\r\n" line for 405, or NULL */
};

/* Answers one request: calls the backend if the request is valid. */
void api_route(const struct api_backend_ops *ops, void *opaque, const struct http_message *m,
               struct api_reply *r);

/* An error body: a JSON array of messages, most general first, as Cloud
 * Hypervisor sends its error chain. */
void api_reply_error(struct api_reply *r, unsigned int status, const char *summary,
                     const char *detail);

#endif
