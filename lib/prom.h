/* prom — a Prometheus text exposition (format 0.0.4) built in memory.
 *
 * No I/O: declare the metric families (name, type, help), add samples
 * (repeated adds to one name+labels are summed, or kept at their maximum),
 * then write the whole exposition into a buf. Families come out in the order
 * they were declared, samples in the order they were first added; a family
 * without samples still gets its # HELP and # TYPE lines. Names and label
 * names are checked against the format's rules, counters must end in
 * "_total", and help texts and label values are escaped as it requires. */
#ifndef BIRDFEED_PROM_H
#define BIRDFEED_PROM_H

#include <stddef.h>

#include "buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_VALUE_MAX 32

typedef struct prom prom;

enum prom_type { PROM_COUNTER, PROM_GAUGE };

/* An empty exposition. Never NULL; free with prom_free. */
prom *prom_new(void);
void prom_free(prom *p);                     /* p may be NULL */

/* Declare a family. 0 ok (declaring it again with the same type is a no-op);
 * -1 when name is not a valid metric name, a counter's name does not end in
 * "_total", or name was declared with another type (err says which). */
int prom_declare(prom *p, const char *name, enum prom_type type, const char *help, char *err, size_t errlen);

/* Add v to the sample name{labels}, starting from 0. labels is NULL or a
 * NULL-terminated list of name, value pairs ("code", "2xx", NULL); values are
 * any text (bytes that are not UTF-8 are written as U+FFFD). 0 ok; -1 when the family was not declared or a label name
 * is invalid or has no value (err says which). */
int prom_add(prom *p, const char *name, const char *const *labels, double v, char *err, size_t errlen);
/* Like prom_add, but the sample keeps the largest value given. */
int prom_max(prom *p, const char *name, const char *const *labels, double v, char *err, size_t errlen);

/* Append the exposition to out. */
void prom_write(const prom *p, buf *out);

/* Is s a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)? A label name
 * ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__")? 1 yes, 0 no. */
int prom_name_valid(const char *s);
int prom_label_name_valid(const char *s);

/* v as the format writes it: integers in plain digits, "NaN", "+Inf",
 * "-Inf", other numbers in the shortest form that reads back exactly. */
void prom_format_value(double v, char out[PROM_VALUE_MAX]);

#endif
