// SPDX-License-Identifier: Apache-2.0
/*
 * log.c - logrus text-formatter lines ("INFO[0000] connected container ...").
 *
 * The time in brackets is whole seconds since cir_log_init(), zero-padded
 * to four digits, measured on the monotonic clock.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "log.h"

static FILE *log_out;
static enum cir_log_level log_max = CIR_LOG_INFO;
static struct timespec log_start;

void cir_log_init(FILE *out, enum cir_log_level max)
{
	log_out = out;
	log_max = max;
	clock_gettime(CLOCK_MONOTONIC, &log_start);
}

void cir_log_set_level(enum cir_log_level max)
{
	log_max = max;
}

bool cir_log_enabled(enum cir_log_level level)
{
	return level <= log_max;
}

const char *cir_log_label(enum cir_log_level level)
{
	switch (level) {
	case CIR_LOG_ERROR:
		return "ERRO";
	case CIR_LOG_WARN:
		return "WARN";
	case CIR_LOG_INFO:
		return "INFO";
	case CIR_LOG_DEBUG:
		return "DEBU";
	}
	return "INFO";
}

char *cir_log_format(char *buf, size_t len, enum cir_log_level level, long seconds,
		     const char *msg)
{
	size_t n, m = strlen(msg);
	int k;

	if (seconds < 0)
		seconds = 0;
	if (m && msg[m - 1] == '\n')
		m--;
	k = snprintf(buf, len, "%s[%04ld] ", cir_log_label(level), seconds);
	if (k < 0 || (size_t)k >= len)
		return buf;
	n = (size_t)k;
	/* One line per message, whatever names it quotes: a control
	 * character (a newline in a container id...) is shown escaped, so no
	 * input can forge a line of its own. */
	for (size_t i = 0; i < m; i++) {
		unsigned char ch = (unsigned char)msg[i];
		char esc[8];
		size_t el;

		if (ch >= 0x20 && ch != 0x7f) {
			esc[0] = (char)ch;
			el = 1;
		} else if (ch == '\n' || ch == '\t' || ch == '\r') {
			esc[0] = '\\';
			esc[1] = ch == '\n' ? 'n' : ch == '\t' ? 't' : 'r';
			el = 2;
		} else {
			el = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", ch);
		}
		if (n + el >= len)
			break;
		memcpy(buf + n, esc, el);
		n += el;
	}
	buf[n] = '\0';
	return buf;
}

void cir_log(enum cir_log_level level, const char *fmt, ...)
{
	char msg[2048], line[2112];
	struct timespec now;
	va_list ap;

	if (!cir_log_enabled(level))
		return;
	if (log_start.tv_sec == 0 && log_start.tv_nsec == 0)
		clock_gettime(CLOCK_MONOTONIC, &log_start);
	clock_gettime(CLOCK_MONOTONIC, &now);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Whole seconds elapsed, like logrus: not a difference of tv_sec,
	 * which says 1 for 0.1 s across a second boundary. */
	cir_log_format(line, sizeof(line), level,
		       (long)(((now.tv_sec - log_start.tv_sec) * 1000000000LL + now.tv_nsec -
			       log_start.tv_nsec) / 1000000000LL), msg);
	fprintf(log_out ? log_out : stderr, "%s\n", line);
	fflush(log_out ? log_out : stderr);
}
