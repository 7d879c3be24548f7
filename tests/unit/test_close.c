/* close codes and Close payload parsing. */
#include "testutil.h"

#include <wsref/wsref.h>

static void test_close_code_ranges(void)
{
	static const uint16_t ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
	                              1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999};
	static const uint16_t bad[] = {0,    1,    999,  1004, 1005, 1006, 1015,
	                               1016, 1100, 2000, 2999, 5000, 6000, 65535};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		ASSERT(wsr_close_code_valid(ok[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ASSERT(!wsr_close_code_valid(bad[i]));
	/* Exhaustive: count the valid codes (4 + 8 + 2000). */
	unsigned n = 0;
	for (uint32_t c = 0; c <= 0xFFFF; c++)
		n += wsr_close_code_valid((uint16_t)c);
	ASSERT_EQ(n, 2012);
}

static enum wsr_status parse(const void *p, size_t len, uint16_t *code, size_t *rlen)
{
	uint8_t *g = tu_guard_copy(p, len);
	const uint8_t *reason = NULL;
	enum wsr_status st = wsr_close_parse(g, len, code, &reason, rlen);
	if (st == WSR_OK)
		ASSERT(reason == g + (len ? 2 : 0));
	tu_guard_free(g, len);
	return st;
}

static void test_close_payloads(void)
{
	uint16_t code = 0;
	size_t rlen = 99;
	ASSERT_EQ(parse("", 0, &code, &rlen), WSR_OK);
	ASSERT_EQ(code, 1005);
	ASSERT_EQ(rlen, 0);
	ASSERT_EQ(parse("\x03", 1, &code, &rlen), WSR_CLOSE_PAYLOAD_ONE_BYTE);
	ASSERT_EQ(parse("\x03\xe8", 2, &code, &rlen), WSR_OK);
	ASSERT_EQ(code, 1000);
	ASSERT_EQ(parse("\x03\xe8Hello", 7, &code, &rlen), WSR_OK);
	ASSERT_EQ(rlen, 5);
	ASSERT_EQ(parse("\x0f\xa0\xce\xba\xe1\xbd\xb9", 7, &code, &rlen), WSR_OK);
	ASSERT_EQ(code, 4000);
	ASSERT_EQ(parse("\x03\xed", 2, &code, &rlen), WSR_CLOSE_CODE_INVALID); /* 1005 */
	ASSERT_EQ(parse("\x03\xee", 2, &code, &rlen), WSR_CLOSE_CODE_INVALID); /* 1006 */
	ASSERT_EQ(parse("\x00\x00", 2, &code, &rlen), WSR_CLOSE_CODE_INVALID);
	ASSERT_EQ(parse("\x0b\xb7", 2, &code, &rlen), WSR_CLOSE_CODE_INVALID); /* 2999 */
	ASSERT_EQ(parse("\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", 16,
	                &code, &rlen),
	          WSR_INVALID_CLOSE_REASON);
	ASSERT_EQ(parse("\x03\xe8\xc3", 3, &code, &rlen), WSR_INVALID_CLOSE_REASON); /* truncated */
}

int main(void)
{
	RUN(test_close_code_ranges);
	RUN(test_close_payloads);
	return tu_finish("close");
}
