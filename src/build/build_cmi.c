/*
 * build_cmi.c — the builder's side of copyright-management information: each work's notices
 * and license (src/cmi: rc_cmi_of_text, with the license index built for this index), recorded
 * with the work as its CMI record (cmi_record.c).
 */
#include "rc_build.h"

int rc_work_cmi(rc_work_ctx *ctx, rc_work_out *out)
{
    rc_cmi cmi;
    rc_license_id id;
    int rc = rc_cmi_of_text(&ctx->cmi, out->text, out->text_len, out->mode, &cmi, &id);
    if (rc != RECITE_OK)
        return rc;
    out->license_found = id.id[0] != 0 || cmi.spdx[0] != 0;
    return rc_cmi_record_write(&out->strs[RC_WS_CMI], &out->cmi_rec, &out->cmi_rec_len, &cmi, &id);
}
