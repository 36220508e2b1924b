/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - logrus-style text lines for executables ("INFO[0000] message").
 *
 * The `circuit` command prints what it did the way the original Go tool did
 * through logrus' text formatter: a four-letter level, the whole seconds
 * since the program started in brackets, a space and the message.  Lines go
 * to one stream (stderr by default, as logrus does); debug lines only when
 * enabled.  Library modules never call this: only main programs print.
 */
#ifndef CIR_LOG_H
#define CIR_LOG_H

#include <stdbool.h>
#include <stdio.h>

enum cir_log_level {
	CIR_LOG_ERROR = 0,
	CIR_LOG_WARN,
	CIR_LOG_INFO,
	CIR_LOG_DEBUG,
};

/* Record the start time and choose the stream (NULL = stderr) and the most
 * verbose level printed (CIR_LOG_INFO by default).  Call once from main. */
void cir_log_init(FILE *out, enum cir_log_level max);

/* Change the most verbose level printed (--debug sets CIR_LOG_DEBUG). */
void cir_log_set_level(enum cir_log_level max);

/* Is a line of this level printed? */
bool cir_log_enabled(enum cir_log_level level);

/* Print one line "LEVL[ssss] message" when level is enabled.  A trailing
 * newline in the message is not doubled. */
void cir_log(enum cir_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The four-letter logrus label of a level: "ERRO", "WARN", "INFO", "DEBU". */
const char *cir_log_label(enum cir_log_level level);

/* Format one line into buf (no newline) as cir_log would print it at
 * `seconds` since start.  Exposed for tests; returns buf. */
char *cir_log_format(char *buf, size_t len, enum cir_log_level level, long seconds,
		     const char *msg);

#endif
