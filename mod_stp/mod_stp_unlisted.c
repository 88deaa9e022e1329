/* mod_stp_unlisted: the 403 page of a member of an `assigned` organisation whom nobody listed,
 * where the organisation's features (its pages, NDA documents, My Library, notifications) are
 * asked for: who their administrators are, so that they know whom to ask. */
#include <httpd.h>

#include <http_protocol.h>

#include "mod_stp.h"

int mod_stp_unlisted_page(request_rec *r, stp_req_t *q)
{
    /* Not known to be unlisted: the organisation's settings could not be read (org_view). */
    if (q->org_unknown)
        return mod_stp_state_error(r, q, APR_EGENERAL, "reading the organisation's settings");
    mod_stp_req_lang(q);
    xmlNodePtr page = mod_stp_page_start(q, "error", mod_stp_msg(q, "unlisted.title"));
    xmlNodePtr e = mod_stp_el(page, "error", NULL);
    mod_stp_attr(e, "status", "403");
    mod_stp_attr(e, "body", "unlisted.body");
    mod_stp_admin_contacts(q, mod_stp_el(e, "contacts", NULL));
    return mod_stp_page_send(r, q, HTTP_FORBIDDEN, page);
}
