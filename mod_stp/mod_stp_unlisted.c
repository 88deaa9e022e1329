/* mod_stp_unlisted: the 403 page of a member of an `assigned` organisation whom nobody listed,
 * where the organisation's features (its pages, NDA documents) are asked for. */
#include <httpd.h>

#include "mod_stp.h"

int mod_stp_unlisted_page(request_rec *r, stp_req_t *q)
{
    mod_stp_req_lang(q);
    return mod_stp_error_page(r, q, HTTP_FORBIDDEN, "unlisted.title", "unlisted.body");
}
