/*
 * mem.h: big tables in ordinary memory (control thread): cache-line aligned, and from
 * HUGE_ALIGN (2 MB) up aligned to it with a transparent-huge-page hint (madvise), so that
 * a classifier of 1M rules or a large exact-match cache does not walk the TLB. Free with
 * free().
 */
#ifndef PSW_CORE_MEM_H
#define PSW_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>

#define PSW_HUGE_ALIGN (2u << 20)

/* NULL on failure (errno ENOMEM). zero: memset to 0. */
void *psw_mem_big(size_t bytes, bool zero);

#endif
