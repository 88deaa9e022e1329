/* sg_serve: `sitegen serve CONTENT_DIR`, the content editor's preview. Builds the content into a
 * temporary site, serves it on 127.0.0.1 through httpd with mod_stp in preview mode (StpPreview
 * On: identities from the preview bar, no identity provider), and rebuilds on every change of the
 * content directory (inotify, debounced). A failed build keeps the previous one published; its
 * errors go to the terminal and, through the status file (stp_preview.h), to the page. */
#ifndef SG_SERVE_H
#define SG_SERVE_H

/* argv[0] is "serve". Returns the exit status: 0 after Ctrl-C, 2 on usage or system errors. */
int sg_serve_main(int argc, char **argv);

#endif
