/*
 * stats.c: names of the drop reasons, and the sums behind every counter the control
 * socket shows. Counters are written only by their own PMD (pmd.h) and summed here on
 * the control thread; a 64-bit aligned load of a counter another core writes is atomic
 * on the machines DPDK supports, so a read never sees a torn value.
 */
#include "drop.h"

const char *const psw_drop_names[PSW_DROP_MAX] = {
#define PSW_DROP_NAME(id, name, text) [PSW_DROP_##id] = name,
	PSW_DROP_REASONS(PSW_DROP_NAME)
#undef PSW_DROP_NAME
};

const char *const psw_drop_texts[PSW_DROP_MAX] = {
#define PSW_DROP_TEXT(id, name, text) [PSW_DROP_##id] = text,
	PSW_DROP_REASONS(PSW_DROP_TEXT)
#undef PSW_DROP_TEXT
};
