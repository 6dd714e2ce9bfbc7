/*
 * drop.c: names and texts of the drop reasons (drop.h). Counters are written only by their
 * own PMD (core/burst.h) and summed on the control thread; a 64-bit aligned load of a
 * counter another core writes is atomic on the machines DPDK supports, so a read never
 * sees a torn value.
 */
#include "core/drop.h"

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
