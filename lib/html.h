/* html — the plain text a reader sees in an HTML fragment such as a Mastodon
 * status's `content`, and the links in it. No I/O.
 *
 * Parsing is libxml2's HTML parser, driven as SAX (no tree is built):
 * character references and entities are decoded there. What is kept:
 *   - text, as it is (no whitespace folding);
 *   - <br> as a line break; a paragraph (<p>, <blockquote>, <pre>, <ul>,
 *     <ol>, headings, <div>) apart from what comes before it by an empty
 *     line; each <li> on a line of its own; breaks only between text, never
 *     leading or trailing;
 *   - a link as its text, so Mastodon's hashtag and mention links read
 *     "#tag" and "@user", and the `invisible` / `ellipsis` spans Mastodon
 *     cuts long links into are joined back into the whole address;
 *   - nothing of <script>, <style> or comments.
 * Links that are neither a mention nor a hashtag (class "mention" or
 * "hashtag", or rel="tag") are reported with their href. */
#ifndef BIRDFEED_HTML_H
#define BIRDFEED_HTML_H

#include <stddef.h>

#include "buf.h"

#define HTML_TAGS_MAX 4096      /* more tags than this in one fragment is refused */

/* Called with each ordinary link's href (decoded, not NUL-terminated). */
typedef void (*html_link_fn)(const char *href, size_t n, void *ctx);

/* Append the text of html[0..n) (valid UTF-8, no NUL) to out and report its
 * links to on_link (may be NULL). Returns 0, or -1 with a reason in err (out
 * then as it was) when the fragment has more than HTML_TAGS_MAX tags or
 * libxml2 cannot make a parser. */
int html_to_text(const char *html, size_t n, buf *out, html_link_fn on_link, void *ctx, char *err, size_t errlen);

#endif
