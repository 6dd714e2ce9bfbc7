/*
 * classify.h: the stage after the exact-match cache (pipeline.c: parse -> flow_cache ->
 * classify -> actions): the packets the cache missed go to the classifier (flow/) as one
 * burst; each rule's result is cached (NORMAL rules cache their own decision in the
 * actions stage). PMD threads.
 */
#ifndef PSW_DATAPATH_CLASSIFY_H
#define PSW_DATAPATH_CLASSIFY_H

#include "core/burst.h"

void psw_classify_burst(struct psw_pmd *pmd, struct psw_burst *b);

#endif
