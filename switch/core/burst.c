/* burst.c: the PMD contexts (burst.h); datapath/pmd.c creates them. */
#include "core/burst.h"

struct psw_pmd *psw_pmds[PSW_MAX_PMDS];
unsigned psw_n_pmds;
