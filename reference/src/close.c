/*
 * close.c - close codes (RFC 6455 section 7.4) and Close payload parsing.
 */
#include <wsref/wsref.h>

bool wsr_close_code_valid(uint16_t code)
{
#ifdef WSR_PLANTED_BUG_CLOSE_CODE_ANY
	(void)code;
	return true;
#else
	if (code >= 1000 && code <= 1003)
		return true;
	/* 1004 is reserved, 1005/1006/1015 are for reporting, never sent. */
	if (code >= 1007 && code <= 1014)
		return true;
	/* 3000-3999 registered with IANA, 4000-4999 private use. */
	return code >= 3000 && code <= 4999;
#endif
}

enum wsr_status wsr_close_parse(const uint8_t *payload, size_t len, uint16_t *code,
                                const uint8_t **reason, size_t *reason_len)
{
	if (len == 0) {
		*code = WSR_CLOSE_NO_STATUS;
		*reason = payload;
		*reason_len = 0;
		return WSR_OK;
	}
	if (len == 1)
		return WSR_CLOSE_PAYLOAD_ONE_BYTE;
	uint16_t c = (uint16_t)(payload[0] << 8 | payload[1]);
	if (!wsr_close_code_valid(c))
		return WSR_CLOSE_CODE_INVALID;
#ifndef WSR_PLANTED_BUG_CLOSE_REASON_UNCHECKED
	if (!wsr_utf8_valid(payload + 2, len - 2))
		return WSR_INVALID_CLOSE_REASON;
#endif
	*code = c;
	*reason = payload + 2;
	*reason_len = len - 2;
	return WSR_OK;
}
