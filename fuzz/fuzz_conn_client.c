#define FUZZ_CONN_CLIENT 1
/* fuzz_conn_client.c - a client connection: see fuzz_conn_common.h. */
#include "fuzz_conn_common.h"
