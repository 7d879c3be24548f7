#define FUZZ_HTTP_RESPONSE 0
/* fuzz_http_request.c - HTTP request heads: see fuzz_http_common.h. */
#include "fuzz_http_common.h"
