/*
 * metrics_fmt.c: the Prometheus text format (metrics_fmt.h). Runs on whichever thread
 * renders (the HTTP server's). Escaping as the format's specification says: in label
 * values \ " and newline; in HELP text \ and newline.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/metrics_fmt.h"

void
psw_text_printf(struct psw_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->buf != NULL && (size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = t->cap ? t->cap * 2 : 16384;
			char *nb;

			while (cap - t->len <= (size_t)n)
				cap *= 2;
			nb = realloc(t->buf, cap);
			if (nb == NULL) {
				t->oom = true;
				return;
			}
			t->buf = nb;
			t->cap = cap;
		}
	}
}

void
psw_text_free(struct psw_text *t)
{
	free(t->buf);
	memset(t, 0, sizeof(*t));
}

size_t
psw_prom_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return 0;
	for (; *in != '\0'; in++) {
		const char *rep = NULL;
		char one[2] = { *in, '\0' };
		size_t rl;

		if (*in == '\\')
			rep = "\\\\";
		else if (*in == '"')
			rep = "\\\"";
		else if (*in == '\n')
			rep = "\\n";
		else
			rep = one;
		rl = strlen(rep);
		if (o + rl >= outlen)
			break;
		memcpy(out + o, rep, rl);
		o += rl;
	}
	out[o] = '\0';
	return o;
}

void
psw_prom_head(struct psw_text *t, const char *name, const char *type, const char *help)
{
	psw_text_printf(t, "# HELP %s ", name);
	for (; *help != '\0'; help++) {
		if (*help == '\\')
			psw_text_printf(t, "\\\\");
		else if (*help == '\n')
			psw_text_printf(t, "\\n");
		else
			psw_text_printf(t, "%c", *help);
	}
	psw_text_printf(t, "\n# TYPE %s %s\n", name, type);
}

static void
labels_text(struct psw_text *t, const char *name, const char *const *labels)
{
	char v[512];

	psw_text_printf(t, "%s", name);
	if (labels == NULL || labels[0] == NULL)
		return;
	psw_text_printf(t, "{");
	for (unsigned i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
		psw_prom_escape(labels[i + 1], v, sizeof(v));
		psw_text_printf(t, "%s%s=\"%s\"", i ? "," : "", labels[i], v);
	}
	psw_text_printf(t, "}");
}

void
psw_prom_sample(struct psw_text *t, const char *name, const char *const *labels,
		uint64_t value)
{
	labels_text(t, name, labels);
	psw_text_printf(t, " %llu\n", (unsigned long long)value);
}

void
psw_prom_sample_f(struct psw_text *t, const char *name, const char *const *labels,
		  double value)
{
	labels_text(t, name, labels);
	psw_text_printf(t, " %.17g\n", value);
}
