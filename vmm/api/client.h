/* A client of the control API: one request over a fresh connection to the
 * unix socket, and its response. Used by vireo-remote and the tests. */
#ifndef VIREO_VMM_API_CLIENT_H
#define VIREO_VMM_API_CLIENT_H

#include <stddef.h>

#include "api/http.h"

/* Sends `method` /api/v1/`endpoint` with an optional JSON body and waits
 * up to `timeout_ms` for the whole response (1xx answers are skipped).
 * Returns 0 with the response in *response whatever its status, or -errno
 * with a message in *err when no response came. */
int api_client_request(const char *socket_path, const char *method, const char *endpoint,
                       const char *body, size_t body_len, int timeout_ms,
                       struct http_message **response, char **err)
    __attribute__((warn_unused_result));

/* The messages of an error body (a JSON array of strings, Cloud
 * Hypervisor's error chain) joined with ": ", or the body as text. */
char *api_client_error_text(const struct http_message *response);

#endif
