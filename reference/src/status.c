/*
 * status.c - names, messages, close codes and HTTP statuses of wsr_status.
 * Everything comes from the one WSR_STATUS_MAP table in wsref.h, so a status
 * cannot be added without its message and codes.
 */
#include <wsref/wsref.h>

struct status_row {
	const char *name;
	const char *message;
	uint16_t close_code;
	int http;
};

static const struct status_row rows[WSR_STATUS_COUNT] = {
#define WSR_X_ROW(sym, msg, code, http) {#sym, msg, code, http},
        WSR_STATUS_MAP(WSR_X_ROW)
#undef WSR_X_ROW
};

static const struct status_row *row(enum wsr_status s)
{
	/* The cast makes a negative (out of range) value compare as huge. */
	if ((unsigned)s >= (unsigned)WSR_STATUS_COUNT)
		return NULL;
	return &rows[s];
}

const char *wsr_status_name(enum wsr_status s)
{
	const struct status_row *r = row(s);
	return r ? r->name : "?";
}

const char *wsr_status_message(enum wsr_status s)
{
	const struct status_row *r = row(s);
	return r ? r->message : "unknown status";
}

uint16_t wsr_status_close_code(enum wsr_status s)
{
	const struct status_row *r = row(s);
	return r ? r->close_code : 0;
}

int wsr_status_http(enum wsr_status s)
{
	const struct status_row *r = row(s);
	return r ? r->http : 0;
}
