/*
 * rc_checker.h — the public checker's state (checker.c), shared with the distributed check
 * (check_dist.c), which drives the same matcher through the participants' exchanges.
 */
#ifndef RC_CHECKER_H
#define RC_CHECKER_H

#include "../cmi/rc_cmi.h"

struct recite_checker {
    rc_matcher *m;
    rc_matcher *bg;          /* matcher of the background index, or NULL */
    rc_license_matcher *lic; /* of the license index (made on first use), or NULL */
    bool cmi;                /* CMI verdicts of the matched works */
    /* streaming: the works of the result so far, with their CMI (computed once per work) */
    RC_VEC(recite_work_hit) live_works;
    recite_result live;
};

/* What a finished check adds to the matcher's result: the background index's common
 * language, the CMI verdicts of the matched works (checker.c). */
int rc_checker_complete(recite_checker *c, recite_error *err);

#endif /* RC_CHECKER_H */
