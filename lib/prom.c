#include "prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "util.h"

struct sample {
    char *labels;          /* formatted: {a="x",b="y"} or "" */
    double v;
};

struct family {
    char *name;
    char *help;
    enum prom_type type;
    struct sample *s;
    size_t ns, caps;
};

struct prom {
    struct family *f;
    size_t nf, capf;
};

prom *prom_new(void)
{
    return xcalloc(1, sizeof(prom));
}

void prom_free(prom *p)
{
    if (p == NULL) return;
    for (size_t i = 0; i < p->nf; i++) {
        for (size_t k = 0; k < p->f[i].ns; k++) free(p->f[i].s[k].labels);
        free(p->f[i].s);
        free(p->f[i].name);
        free(p->f[i].help);
    }
    free(p->f);
    free(p);
}

static int name_char(char c, int first, int colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return 1;
    if (colon && c == ':') return 1;
    return !first && c >= '0' && c <= '9';
}

int prom_name_valid(const char *s)
{
    if (s == NULL || *s == '\0') return 0;
    for (size_t i = 0; s[i]; i++)
        if (!name_char(s[i], i == 0, 1)) return 0;
    return 1;
}

int prom_label_name_valid(const char *s)
{
    if (s == NULL || *s == '\0' || strncmp(s, "__", 2) == 0) return 0;
    for (size_t i = 0; s[i]; i++)
        if (!name_char(s[i], i == 0, 0)) return 0;
    return 1;
}

static struct family *family_find(const prom *p, const char *name)
{
    for (size_t i = 0; i < p->nf; i++)
        if (strcmp(p->f[i].name, name) == 0) return &p->f[i];
    return NULL;
}

static const char *type_name(enum prom_type t) { return t == PROM_COUNTER ? "counter" : "gauge"; }

int prom_declare(prom *p, const char *name, enum prom_type type, const char *help, char *err, size_t errlen)
{
    struct family *f;
    size_t n = name ? strlen(name) : 0;
    if (!prom_name_valid(name)) {
        snprintf(err, errlen, "'%s' is not a valid metric name", name ? name : "(null)");
        return -1;
    }
    if (type == PROM_COUNTER && (n < 6 || strcmp(name + n - 6, "_total") != 0)) {
        snprintf(err, errlen, "counter '%s' must end in _total", name);
        return -1;
    }
    if ((f = family_find(p, name)) != NULL) {
        if (f->type == type) return 0;
        snprintf(err, errlen, "'%s' is already a %s", name, type_name(f->type));
        return -1;
    }
    if (p->nf == p->capf) {
        p->capf = p->capf ? p->capf * 2 : 16;
        p->f = xrealloc(p->f, p->capf * sizeof *p->f);
    }
    f = &p->f[p->nf++];
    memset(f, 0, sizeof *f);
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->type = type;
    return 0;
}

/* Append s escaped: backslash and newline always, '"' too in label values;
 * a byte that does not start a valid UTF-8 sequence becomes U+FFFD. */
static void append_escaped(buf *b, const char *s, int quote)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) {
            buf_appends(b, "\xef\xbf\xbd");
            i++;
            continue;
        }
        if (s[i] == '\\') buf_appends(b, "\\\\");
        else if (s[i] == '\n') buf_appends(b, "\\n");
        else if (quote && s[i] == '"') buf_appends(b, "\\\"");
        else buf_append(b, s + i, k);
        i += k;
    }
}

/* The {…} part of a sample line, or "" without labels. 0 ok, -1 bad name. */
static int format_labels(const char *const *labels, buf *out, char *err, size_t errlen)
{
    buf_appends(out, "");
    if (labels == NULL || labels[0] == NULL) return 0;
    buf_appendc(out, '{');
    for (size_t i = 0; labels[i]; i += 2) {
        if (!prom_label_name_valid(labels[i])) {
            snprintf(err, errlen, "'%s' is not a valid label name", labels[i]);
            return -1;
        }
        if (labels[i + 1] == NULL) {
            snprintf(err, errlen, "label '%s' has no value", labels[i]);
            return -1;
        }
        if (i) buf_appendc(out, ',');
        buf_printf(out, "%s=\"", labels[i]);
        append_escaped(out, labels[i + 1], 1);
        buf_appendc(out, '"');
    }
    buf_appendc(out, '}');
    return 0;
}

static struct sample *sample_get(prom *p, const char *name, const char *const *labels, int *fresh, char *err,
                                 size_t errlen)
{
    struct family *f = family_find(p, name);
    buf l = BUF_INIT;
    struct sample *s;
    if (f == NULL) {
        snprintf(err, errlen, "metric '%s' was not declared", name ? name : "(null)");
        return NULL;
    }
    if (format_labels(labels, &l, err, errlen) < 0) {
        buf_free(&l);
        return NULL;
    }
    for (size_t i = 0; i < f->ns; i++)
        if (strcmp(f->s[i].labels, l.data) == 0) {
            buf_free(&l);
            *fresh = 0;
            return &f->s[i];
        }
    if (f->ns == f->caps) {
        f->caps = f->caps ? f->caps * 2 : 4;
        f->s = xrealloc(f->s, f->caps * sizeof *f->s);
    }
    s = &f->s[f->ns++];
    s->labels = buf_detach(&l, NULL);
    s->v = 0;
    *fresh = 1;
    return s;
}

int prom_add(prom *p, const char *name, const char *const *labels, double v, char *err, size_t errlen)
{
    int fresh;
    struct sample *s = sample_get(p, name, labels, &fresh, err, errlen);
    if (s == NULL) return -1;
    s->v += v;
    return 0;
}

int prom_max(prom *p, const char *name, const char *const *labels, double v, char *err, size_t errlen)
{
    int fresh;
    struct sample *s = sample_get(p, name, labels, &fresh, err, errlen);
    if (s == NULL) return -1;
    if (fresh || v > s->v || isnan(s->v)) s->v = v;
    return 0;
}

void prom_format_value(double v, char out[PROM_VALUE_MAX])
{
    if (isnan(v)) {
        snprintf(out, PROM_VALUE_MAX, "NaN");
    } else if (isinf(v)) {
        snprintf(out, PROM_VALUE_MAX, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (v == floor(v) && fabs(v) < 1e17) {
        snprintf(out, PROM_VALUE_MAX, "%.0f", v);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, PROM_VALUE_MAX, "%.*g", prec, v);
            if (strtod(out, NULL) == v) break;
        }
    }
}

void prom_write(const prom *p, buf *out)
{
    char val[PROM_VALUE_MAX];
    for (size_t i = 0; i < p->nf; i++) {
        const struct family *f = &p->f[i];
        buf_printf(out, "# HELP %s ", f->name);
        append_escaped(out, f->help, 0);
        buf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
        for (size_t k = 0; k < f->ns; k++) {
            prom_format_value(f->s[k].v, val);
            buf_printf(out, "%s%s %s\n", f->name, f->s[k].labels, val);
        }
    }
}
