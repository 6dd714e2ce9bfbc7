/* mem.c: big tables (mem.h). Control thread. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <rte_common.h>

#include "core/mem.h"

void *
psw_mem_big(size_t bytes, bool zero)
{
	size_t align = bytes >= PSW_HUGE_ALIGN ? PSW_HUGE_ALIGN : RTE_CACHE_LINE_SIZE;
	void *p;

	bytes = RTE_ALIGN_CEIL(bytes ? bytes : 1, align);
	p = aligned_alloc(align, bytes);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (align == PSW_HUGE_ALIGN)
		madvise(p, bytes, MADV_HUGEPAGE); /* a hint; failure is harmless */
	if (zero)
		memset(p, 0, bytes);
	return p;
}
