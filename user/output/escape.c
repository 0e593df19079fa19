// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "escape.h"

size_t utf8_sequence_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned int cp;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Appends piece[0..n) if it fits with room for the NUL; returns 0 when full. */
static int put(char *dst, size_t size, size_t *pos, const char *piece, size_t n)
{
	if (*pos + n + 1 > size)
		return 0;
	memcpy(dst + *pos, piece, n);
	*pos += n;
	return 1;
}

static size_t escape(char *dst, size_t size, const char *src, size_t src_len, int json)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t pos = 0, i = 0, n;
	char tmp[8];

	if (size == 0)
		return 0;
	while (i < src_len && s[i]) {
		unsigned char c = s[i];
		size_t seq = utf8_sequence_len(s + i, src_len - i < 4 ? src_len - i : 4);
		const char *piece = tmp;

		n = 2;
		if (c == '\\') {
			piece = "\\\\";
		} else if (c == '"' && json) {
			piece = "\\\"";
		} else if (c == '\n') {
			piece = "\\n";
		} else if (c == '\t') {
			piece = "\\t";
		} else if (c == '\r') {
			piece = "\\r";
		} else if (c < 0x20 || c == 0x7f) {
			n = (size_t)snprintf(tmp, sizeof(tmp), json ? "\\u%04x" : "\\x%02x", c);
		} else if (seq == 0) {
			/* Invalid UTF-8: JSON gets U+FFFD, the terminal sees the byte's value. */
			if (json) {
				piece = "\xef\xbf\xbd";
				n = 3;
			} else {
				n = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			}
		} else if (seq == 2 && c == 0xc2 && s[i + 1] < 0xa0 && !json) {
			/* C1 controls (U+0080..U+009F) act as escape codes on some terminals. */
			n = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", s[i + 1]);
			if (!put(dst, size, &pos, piece, n))
				break;
			i += 2;
			continue;
		} else {
			piece = src + i;
			n = seq;
			if (!put(dst, size, &pos, piece, n))
				break;
			i += seq;
			continue;
		}
		if (!put(dst, size, &pos, piece, n))
			break;
		i++;
	}
	dst[pos] = '\0';
	return pos;
}

size_t escape_terminal(char *dst, size_t size, const char *src, size_t src_len)
{
	return escape(dst, size, src, src_len, 0);
}

size_t escape_json(char *dst, size_t size, const char *src, size_t src_len)
{
	return escape(dst, size, src, src_len, 1);
}

void fputs_json_string(FILE *f, const char *src, size_t src_len)
{
	char buf[256];
	size_t done = 0;

	src_len = strnlen(src, src_len); /* a NUL ends the string, as in escape_json() */
	fputc('"', f);
	/* Escape in chunks on character boundaries so any length goes through. */
	while (done < src_len && src[done]) {
		size_t take = src_len - done, n;

		if (take > 40)
			take = 40;
		/* Extend to the end of a multi-byte sequence that straddles the chunk. */
		while (done + take < src_len && ((unsigned char)src[done + take] & 0xc0) == 0x80 &&
		       take < 44)
			take++;
		n = escape_json(buf, sizeof(buf), src + done, take);
		fwrite(buf, 1, n, f);
		done += take;
	}
	fputc('"', f);
}
