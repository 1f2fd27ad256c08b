/* Unit tests of the incremental UTF-8 validator (src/utf8.c). */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define U(s)	((const uint8_t *)(s))

static int
valid(const char *s, size_t n)
{
	return utf8_valid(U(s), n);
}

START_TEST(test_valid_ascii)
{
	ck_assert_int_eq(valid("", 0), 1);
	ck_assert_int_eq(valid("hello, world", 12), 1);
	ck_assert_int_eq(valid("\x00\x01\x7f", 3), 1);
}
END_TEST

START_TEST(test_valid_multibyte)
{
	/* 2-byte: U+0080, U+00E9, U+07FF */
	ck_assert_int_eq(valid("\xc2\x80", 2), 1);
	ck_assert_int_eq(valid("\xc3\xa9", 2), 1);
	ck_assert_int_eq(valid("\xdf\xbf", 2), 1);
	/* 3-byte: U+0800, U+20AC, U+D7FF, U+E000, U+FFFF */
	ck_assert_int_eq(valid("\xe0\xa0\x80", 3), 1);
	ck_assert_int_eq(valid("\xe2\x82\xac", 3), 1);
	ck_assert_int_eq(valid("\xed\x9f\xbf", 3), 1);
	ck_assert_int_eq(valid("\xee\x80\x80", 3), 1);
	ck_assert_int_eq(valid("\xef\xbf\xbf", 3), 1);
	/* 4-byte: U+10000, U+1F600, U+10FFFF */
	ck_assert_int_eq(valid("\xf0\x90\x80\x80", 4), 1);
	ck_assert_int_eq(valid("\xf0\x9f\x98\x80", 4), 1);
	ck_assert_int_eq(valid("\xf4\x8f\xbf\xbf", 4), 1);
	/* mixed */
	ck_assert_int_eq(valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 11), 1);
}
END_TEST

START_TEST(test_invalid_stray_continuation)
{
	ck_assert_int_eq(valid("\x80", 1), 0);
	ck_assert_int_eq(valid("a\xbf", 2), 0);
	ck_assert_int_eq(valid("\xc3\xa9\xa9", 3), 0);
}
END_TEST

START_TEST(test_invalid_overlong)
{
	ck_assert_int_eq(valid("\xc0\x80", 2), 0);
	ck_assert_int_eq(valid("\xc1\xbf", 2), 0);
	ck_assert_int_eq(valid("\xe0\x80\x80", 3), 0);
	ck_assert_int_eq(valid("\xe0\x9f\xbf", 3), 0);
	ck_assert_int_eq(valid("\xf0\x80\x80\x80", 4), 0);
	ck_assert_int_eq(valid("\xf0\x8f\xbf\xbf", 4), 0);
}
END_TEST

START_TEST(test_invalid_surrogate)
{
	ck_assert_int_eq(valid("\xed\xa0\x80", 3), 0);	/* U+D800 */
	ck_assert_int_eq(valid("\xed\xbf\xbf", 3), 0);	/* U+DFFF */
	/* a UTF-16 surrogate pair encoded as two 3-byte sequences (CESU) */
	ck_assert_int_eq(valid("\xed\xa0\xbd\xed\xb8\x80", 6), 0);
}
END_TEST

START_TEST(test_invalid_above_max)
{
	ck_assert_int_eq(valid("\xf4\x90\x80\x80", 4), 0);	/* U+110000 */
	ck_assert_int_eq(valid("\xf4\xbf\xbf\xbf", 4), 0);
}
END_TEST

START_TEST(test_invalid_bytes_f5_ff)
{
	unsigned	 c;
	uint8_t		 b[4];

	for (c = 0xf5; c <= 0xff; c++) {
		b[0] = (uint8_t)c;
		b[1] = b[2] = b[3] = 0x80;
		ck_assert_msg(!utf8_valid(b, 1), "byte %02x alone", c);
		ck_assert_msg(!utf8_valid(b, 4), "byte %02x + 3 cont", c);
	}
	/* also 0xc0, 0xc1 can never appear */
	ck_assert_int_eq(valid("\xc0", 1), 0);
	ck_assert_int_eq(valid("\xc1", 1), 0);
}
END_TEST

START_TEST(test_truncated_end)
{
	struct utf8_state s;

	ck_assert_int_eq(valid("\xc3", 1), 0);
	ck_assert_int_eq(valid("a\xe2\x82", 3), 0);
	ck_assert_int_eq(valid("\xf0\x9f\x98", 3), 0);

	/* Feeding a prefix is OK, but the stream is not complete. */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("a\xf0\x9f\x98"), 4), UTF8_OK);
	ck_assert_int_eq(utf8_complete(&s), 0);
	ck_assert_int_eq(utf8_feed(&s, U("\x80"), 1), UTF8_OK);
	ck_assert_int_eq(utf8_complete(&s), 1);
}
END_TEST

START_TEST(test_incremental_4byte)
{
	static const uint8_t	 ch[] = { 0xf0, 0x9f, 0x98, 0x80 };
	struct utf8_state	 s;
	size_t			 i;

	utf8_init(&s);
	ck_assert_int_eq(utf8_complete(&s), 1);
	for (i = 0; i < sizeof(ch); i++) {
		ck_assert_int_eq(utf8_feed(&s, ch + i, 1), UTF8_OK);
		ck_assert_int_eq(utf8_complete(&s), i == sizeof(ch) - 1);
	}
	/* empty feeds change nothing */
	ck_assert_int_eq(utf8_feed(&s, ch, 0), UTF8_OK);
	ck_assert_int_eq(utf8_complete(&s), 1);
}
END_TEST

/*
 * An invalid sequence split across feeds fails exactly at the chunk that
 * holds the bad byte.
 */
START_TEST(test_incremental_split_bad)
{
	struct utf8_state s;

	/* E0 | 80: the overlong is detectable at the second byte. */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("ab\xe0"), 3), UTF8_OK);
	ck_assert_int_eq(utf8_feed(&s, U("\x80\x80"), 2), UTF8_BAD);

	/* ED | A0 80: surrogate */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("\xed"), 1), UTF8_OK);
	ck_assert_int_eq(utf8_feed(&s, U("\xa0"), 1), UTF8_BAD);

	/* F4 8F | BF | C0: U+10FFFF minus last byte, then bad final byte */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("\xf4\x8f"), 2), UTF8_OK);
	ck_assert_int_eq(utf8_feed(&s, U("\xbf"), 1), UTF8_OK);
	ck_assert_int_eq(utf8_feed(&s, U("\xc0"), 1), UTF8_BAD);

	/* F0 9F 98 | 41: an ASCII byte where a continuation was needed */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("\xf0\x9f\x98"), 3), UTF8_OK);
	ck_assert_int_eq(utf8_feed(&s, U("A"), 1), UTF8_BAD);

	/* F4 | 90: above U+10FFFF */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("\xf4"), 1), UTF8_OK);
	ck_assert_int_eq(utf8_feed(&s, U("\x90"), 1), UTF8_BAD);
}
END_TEST

START_TEST(test_sticky)
{
	struct utf8_state s;

	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("\xff"), 1), UTF8_BAD);
	ck_assert_int_eq(utf8_complete(&s), 0);
	/* valid input afterwards does not clear it */
	ck_assert_int_eq(utf8_feed(&s, U("abc"), 3), UTF8_BAD);
	ck_assert_int_eq(utf8_feed(&s, U(""), 0), UTF8_BAD);
	ck_assert_int_eq(utf8_complete(&s), 0);
	/* init clears it */
	utf8_init(&s);
	ck_assert_int_eq(utf8_feed(&s, U("abc"), 3), UTF8_OK);
	ck_assert_int_eq(utf8_complete(&s), 1);
}
END_TEST

START_TEST(test_decode)
{
	uint32_t	 cp = 0;

	ck_assert_uint_eq(utf8_decode(U("A"), 1, &cp), 1);
	ck_assert_uint_eq(cp, 0x41);
	ck_assert_uint_eq(utf8_decode(U("\xc2\xa0x"), 3, &cp), 2);
	ck_assert_uint_eq(cp, 0xa0);
	ck_assert_uint_eq(utf8_decode(U("\xdf\xbf"), 2, &cp), 2);
	ck_assert_uint_eq(cp, 0x7ff);
	ck_assert_uint_eq(utf8_decode(U("\xe3\x80\x80"), 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x3000);
	ck_assert_uint_eq(utf8_decode(U("\xef\xbf\xbf"), 3, &cp), 3);
	ck_assert_uint_eq(cp, 0xffff);
	ck_assert_uint_eq(utf8_decode(U("\xf0\x9f\x98\x80"), 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x1f600);
	ck_assert_uint_eq(utf8_decode(U("\xf4\x8f\xbf\xbf"), 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x10ffff);
	ck_assert_uint_eq(utf8_decode(U(""), 0, &cp), 0);
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite	*s = suite_create("utf8");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_valid_ascii);
	tcase_add_test(tc, test_valid_multibyte);
	tcase_add_test(tc, test_invalid_stray_continuation);
	tcase_add_test(tc, test_invalid_overlong);
	tcase_add_test(tc, test_invalid_surrogate);
	tcase_add_test(tc, test_invalid_above_max);
	tcase_add_test(tc, test_invalid_bytes_f5_ff);
	tcase_add_test(tc, test_truncated_end);
	tcase_add_test(tc, test_incremental_4byte);
	tcase_add_test(tc, test_incremental_split_bad);
	tcase_add_test(tc, test_sticky);
	tcase_add_test(tc, test_decode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(utf8_suite());
	int	 failures;

	srunner_run_all(sr, CK_NORMAL);
	failures = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failures ? 1 : 0;
}
