/* status table: names, messages, close codes, HTTP statuses. */
#include "testutil.h"

#include <wsref/wsref.h>

static void test_names_round_trip_the_table(void)
{
	ASSERT_STREQ(wsr_status_name(WSR_OK), "OK");
	ASSERT_STREQ(wsr_status_name(WSR_INVALID_UTF8), "INVALID_UTF8");
	ASSERT_STREQ(wsr_status_name(WSR_HS_UNSOLICITED_PROTOCOL), "HS_UNSOLICITED_PROTOCOL");
	ASSERT_STREQ(wsr_status_name(WSR_RANDOM_FAILED), "RANDOM_FAILED");
	ASSERT_STREQ(wsr_status_name(WSR_STATUS_COUNT), "?");
	ASSERT_STREQ(wsr_status_name((enum wsr_status) - 1), "?");
	ASSERT_STREQ(wsr_status_message(WSR_AGAIN), "more input needed");
	/* Every status has a distinct name and a message. */
	for (int i = 0; i < WSR_STATUS_COUNT; i++) {
		ASSERT(strcmp(wsr_status_name((enum wsr_status)i), "?") != 0);
		ASSERT(strlen(wsr_status_message((enum wsr_status)i)) > 0);
		for (int k = 0; k < i; k++)
			ASSERT(strcmp(wsr_status_name((enum wsr_status)i),
			              wsr_status_name((enum wsr_status)k)) != 0);
	}
}

static void test_close_codes_follow_the_rfc(void)
{
	ASSERT_EQ(wsr_status_close_code(WSR_OK), 0);
	ASSERT_EQ(wsr_status_close_code(WSR_RSV_NOT_NEGOTIATED), 1002);
	ASSERT_EQ(wsr_status_close_code(WSR_RESERVED_OPCODE), 1002);
	ASSERT_EQ(wsr_status_close_code(WSR_CONTROL_TOO_LONG), 1002);
	ASSERT_EQ(wsr_status_close_code(WSR_CLOSE_CODE_INVALID), 1002);
	ASSERT_EQ(wsr_status_close_code(WSR_INVALID_UTF8), 1007);
	ASSERT_EQ(wsr_status_close_code(WSR_INVALID_CLOSE_REASON), 1007);
	ASSERT_EQ(wsr_status_close_code(WSR_MESSAGE_TOO_BIG), 1009);
	ASSERT_EQ(wsr_status_close_code(WSR_INFLATE_TOO_BIG), 1009);
	ASSERT_EQ(wsr_status_close_code(WSR_NOMEM), 1011);
	ASSERT_EQ(wsr_status_close_code(WSR_STATUS_COUNT), 0);
	/* Every close code a status implies may be sent on the wire. */
	for (int i = 0; i < WSR_STATUS_COUNT; i++) {
		uint16_t c = wsr_status_close_code((enum wsr_status)i);
		ASSERT(c == 0 || wsr_close_code_valid(c));
	}
}

static void test_http_statuses(void)
{
	ASSERT_EQ(wsr_status_http(WSR_HS_METHOD), 405);
	ASSERT_EQ(wsr_status_http(WSR_HS_BAD_VERSION), 426);
	ASSERT_EQ(wsr_status_http(WSR_HS_TOO_LARGE), 431);
	ASSERT_EQ(wsr_status_http(WSR_HS_FORBIDDEN_ORIGIN), 403);
	ASSERT_EQ(wsr_status_http(WSR_HS_BAD_KEY), 400);
	ASSERT_EQ(wsr_status_http(WSR_INVALID_UTF8), 0);
	ASSERT_EQ(wsr_status_http((enum wsr_status)9999), 0);
}

int main(void)
{
	RUN(test_names_round_trip_the_table);
	RUN(test_close_codes_follow_the_rfc);
	RUN(test_http_statuses);
	return tu_finish("status");
}
