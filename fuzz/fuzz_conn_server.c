#define FUZZ_CONN_CLIENT 0
/* fuzz_conn_server.c - a server connection: see fuzz_conn_common.h. */
#include "fuzz_conn_common.h"
