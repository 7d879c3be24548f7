#define FUZZ_HTTP_RESPONSE 1
/* fuzz_http_response.c - HTTP response heads: see fuzz_http_common.h. */
#include "fuzz_http_common.h"
