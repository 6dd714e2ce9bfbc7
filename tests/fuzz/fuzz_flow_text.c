/*
 * fuzz_flow_text.c: the flow-rule text syntax (ctl/flow_text.c), as podswitchctl, the
 * config loader and flow.add's "rule" strings use it. Any text, in each of the three
 * modes (rule, match, packet). Besides ASan and UBSan: what parses formats back to text
 * (psw_flow_text_format*) that parses to the same JSON, and a refusal always comes with a
 * message. Pure string work: no EAL.
 *
 * Input: mode (1 byte), then the text (NULs cut it short, as a C string would).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl/flow_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The formatter leaves out what is the default (priority 32768, cookie 0). */
static json_t *
normal(const json_t *j)
{
	json_t *c = json_deep_copy(j), *v;

	if ((v = json_object_get(c, "cookie")) != NULL && json_integer_value(v) == 0)
		json_object_del(c, "cookie");
	if ((v = json_object_get(c, "priority")) != NULL &&
	    json_integer_value(v) == PSW_FLOW_DEFAULT_PRIORITY)
		json_object_del(c, "priority");
	return c;
}

static void
round_trip(const json_t *j, enum psw_flow_text_mode mode)
{
	json_t *a1, *a2;
	char err[256] = "", *text;
	json_t *again;

	if (mode == PSW_FT_PACKET)
		text = psw_flow_text_format_match(j);
	else
		text = psw_flow_text_format(j);
	if (text == NULL)
		return; /* a member it cannot print: EINVAL, allowed */
	again = psw_flow_text_parse(text, mode, err, sizeof(err));
	a1 = normal(j);
	a2 = again ? normal(again) : NULL;
	if (again == NULL || !json_equal(a1, a2)) {
		char *a = json_dumps(j, JSON_SORT_KEYS), *b = again ? json_dumps(again, JSON_SORT_KEYS) : NULL;

		fprintf(stderr, "round trip: %s -> \"%s\" -> %s (%s)\n", a, text, b ? b : "NULL", err);
		abort();
	}
	json_decref(a1);
	json_decref(a2);
	json_decref(again);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum psw_flow_text_mode mode;
	char err[256], *text;
	json_t *j;

	if (size == 0)
		return 0;
	mode = data[0] % 3 == 0 ? PSW_FT_RULE : data[0] % 3 == 1 ? PSW_FT_MATCH : PSW_FT_PACKET;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	err[0] = '\0';
	j = psw_flow_text_parse(text, mode, err, sizeof(err));
	if (j == NULL) {
		if (err[0] == '\0')
			abort(); /* a refusal names what is wrong */
	} else {
		round_trip(j, mode);
		json_decref(j);
	}
	free(text);
	return 0;
}
