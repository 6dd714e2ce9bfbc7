/*
 * metrics_fmt.h: the Prometheus text exposition format, version 0.0.4 (metrics_fmt.c):
 * a growing text buffer, # HELP and # TYPE lines, samples with escaped label values.
 * No DPDK, no threads of its own: the /metrics handler (metrics_http.c) fills one buffer
 * per scrape; the unit test checks the text.
 */
#ifndef PSW_CONTROL_METRICS_FMT_H
#define PSW_CONTROL_METRICS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct psw_text {
	char *buf;
	size_t len, cap;
	bool oom;                   /* an allocation failed: the text is incomplete */
};

/* Appends printf-style text. */
void psw_text_printf(struct psw_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void psw_text_free(struct psw_text *t);

/* A label value as the format wants it: backslash, double quote and newline escaped
 * (\\, \", \n). Returns the length written (without the NUL), truncated to fit out. */
size_t psw_prom_escape(const char *in, char *out, size_t outlen);

/* "# HELP name help" and "# TYPE name type" (type: "counter" or "gauge"); help's
 * backslashes and newlines escaped. Once per metric, before its samples. */
void psw_prom_head(struct psw_text *t, const char *name, const char *type,
		   const char *help);

/* name{k1="v1",k2="v2"} value: labels is a NULL-terminated list of key, value pairs
 * (NULL or {NULL} for none); values are escaped here. */
void psw_prom_sample(struct psw_text *t, const char *name, const char *const *labels,
		     uint64_t value);
/* The same with a floating-point value. */
void psw_prom_sample_f(struct psw_text *t, const char *name, const char *const *labels,
		       double value);

#endif
