/* token — birdfeed's one tokeniser. The rules are in token.h.
 *
 * ASCII words take a fast path (most words of most tweets): folded in
 * place, no library call. Other words go through ICU in UTF-16: simple case
 * folding, NFC, and for a text's diacritic-free form NFKD with the
 * script-neutral (Inherited) nonspacing marks dropped. */
#include "token.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/utf16.h>

#include "utf8.h"

#define WORD_IN_MAX (4 * TOKEN_MAX)   /* input bytes beyond which a word cannot fold to TOKEN_MAX */
#define U16_MAX (4 * TOKEN_MAX + 16)  /* UTF-16 units for a word and what NFKD adds to it */
#define UNIT_MAX 16                   /* bytes of one character of an unspaced run with its marks */

enum cls {
    C_SEP,      /* separates words */
    C_WORD,     /* letter, digit, '_' */
    C_PAIRS,    /* a script written without spaces: cut into characters and pairs */
    C_EMOJI,    /* a word of its own */
    C_FLAG,     /* a regional indicator: two make one flag */
    C_MARK,     /* combining mark: belongs to the word before it */
    C_SKIP      /* joiner, variation selector, skin tone: dropped, separates nothing */
};

struct scan {
    token_fn fn;
    void *ctx;
    enum token_side side;
    size_t count;
    char out[1 + TOKEN_MAX + 2 * UNIT_MAX];   /* out[0]: the sign slot, out + 1: the token */
    UChar u1[U16_MAX], u2[U16_MAX];
};

static pthread_once_t norm_once = PTHREAD_ONCE_INIT;
static const UNormalizer2 *nfc, *nfkd;   /* NULL when ICU lacks its data: then no normalising */

static void norm_init(void)
{
    UErrorCode e = U_ZERO_ERROR;
    nfc = unorm2_getNFCInstance(&e);
    if (U_FAILURE(e)) nfc = NULL;
    e = U_ZERO_ERROR;
    nfkd = unorm2_getNFKDInstance(&e);
    if (U_FAILURE(e)) nfkd = NULL;
}

/* A character's case folding: Unicode's simple folding, except for the
 * iota subscript mark U+0345, which would fold to the letter ι: kept, it
 * composes with the vowel before it (NFC), so polytonic Greek folds alike
 * composed (ᾀ) or decomposed (ἀ + U+0345). */
static UChar32 fold(UChar32 c)
{
    return c == 0x0345 ? c : u_foldCase(c, U_FOLD_CASE_DEFAULT);
}

static inline int ascii_word(unsigned char c)
{
    return (unsigned char)((c | 32) - 'a') < 26 || (unsigned char)(c - '0') < 10 || c == '_';
}

/* Scripts written without spaces between words (only asked of letters):
 * Chinese, Japanese and Korean, and the Brahmic scripts of Southeast Asia
 * that leave spaces out too (Thai, Lao, Myanmar, Khmer). */
static int unspaced(uint32_t c)
{
    return (c >= 0x0E00 && c <= 0x0EFF) ||    /* Thai, Lao */
           (c >= 0x1000 && c <= 0x109F) ||    /* Myanmar */
           (c >= 0x1780 && c <= 0x17FF) ||    /* Khmer */
           (c >= 0x19E0 && c <= 0x19FF) ||    /* Khmer symbols */
           (c >= 0xA9E0 && c <= 0xA9FF) || (c >= 0xAA60 && c <= 0xAA7F) ||   /* Myanmar extensions */
           (c >= 0x1100 && c <= 0x11FF) ||    /* Hangul Jamo */
           (c >= 0x2E80 && c <= 0x9FFF) ||    /* CJK radicals to unified ideographs, kana, Bopomofo */
           (c >= 0xA960 && c <= 0xA97F) || (c >= 0xAC00 && c <= 0xD7FF) ||   /* Hangul */
           (c >= 0xF900 && c <= 0xFAFF) ||    /* compatibility ideographs */
           (c >= 0xFF66 && c <= 0xFF9F) ||    /* halfwidth katakana */
           (c >= 0x1B000 && c <= 0x1B16F) ||  /* kana supplements */
           (c >= 0x20000 && c <= 0x3FFFF);    /* ideograph extensions */
}

static enum cls classify(uint32_t c)
{
    if ((c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF) || (c >= 0x1F3FB && c <= 0x1F3FF))
        return C_SKIP;
    if (c >= 0x1F1E6 && c <= 0x1F1FF) return C_FLAG;
    switch (u_charType((UChar32)c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
        return unspaced(c) ? C_PAIRS : C_WORD;
    case U_DECIMAL_DIGIT_NUMBER:             /* Thai ๒๕๖๙ is a number, as 2569 is */
    case U_CONNECTOR_PUNCTUATION:
        return C_WORD;
    case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
    case U_ENCLOSING_MARK:
        return C_MARK;
    case U_FORMAT_CHAR:                      /* zero width space separates; joiners, soft hyphens do not */
        return c == 0x200B ? C_SEP : C_SKIP;
    case U_UNASSIGNED:                       /* emoji newer than this ICU */
        return c >= 0x1F000 && c <= 0x1FAFF ? C_EMOJI : C_SEP;
    default:
        return u_hasBinaryProperty((UChar32)c, UCHAR_EXTENDED_PICTOGRAPHIC) ? C_EMOJI : C_SEP;
    }
}

/* The class of the character at s[0..n) and its length (invalid bytes: a
 * one-byte separator). */
static enum cls next_class(const char *s, size_t n, size_t *len, uint32_t *cp)
{
    unsigned char b = (unsigned char)s[0];
    if (b < 0x80) {
        *len = 1;
        *cp = b;
        return ascii_word(b) ? C_WORD : C_SEP;
    }
    *len = utf8_decode(s, n, cp);
    if (*len == 0) {
        *len = 1;
        *cp = 0xFFFD;
        return C_SEP;
    }
    return classify(*cp);
}

/* ---- giving tokens out ---- */

/* sc->out + 1 holds a token of len bytes: one call with this sign. */
static void call(struct scan *sc, size_t len, char sign)
{
    sc->out[0] = sign;
    sc->fn(sc->out + 1, len, sign, sc->ctx);
    sc->count++;
}

/* A word's form in sc->out + 1: as the side wants it — a query term keeps
 * its sign; a text word comes bare and, when signed, signed too. */
static void emit(struct scan *sc, size_t len, char sign)
{
    if (sign && sc->side == TOKEN_TEXT) call(sc, len, 0);
    call(sc, len, sign);
}

/* ---- words ---- */

static void ascii_word_out(struct scan *sc, const char *w, size_t n, char sign)
{
    char *o = sc->out + 1;
    if (n > TOKEN_MAX) return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        o[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    emit(sc, n, sign);
}

/* UTF-16 u[0..len) as UTF-8 into out; returns its length, or 0 when over
 * max bytes. */
static size_t u16_to_utf8(const UChar *u, int32_t len, char *out, size_t max)
{
    size_t o = 0;
    for (int32_t i = 0; i < len;) {
        UChar32 c;
        char enc[4];
        U16_NEXT(u, i, len, c);
        size_t k = utf8_encode((uint32_t)c, enc);
        if (o + k > max) return 0;
        memcpy(out + o, enc, k);
        o += k;
    }
    return o;
}

/* A letter that does not decompose into a plain one but is written so
 * without its special keys. NULL when c is none of them. */
static const char *plain_spelling(UChar32 c)
{
    switch (c) {
    case 0x00DF: return "ss";   /* ß */
    case 0x00E6: return "ae";   /* æ */
    case 0x0153: return "oe";   /* œ */
    case 0x00F8: return "o";    /* ø */
    case 0x0111: return "d";    /* đ */
    case 0x00F0: return "d";    /* ð */
    case 0x0142: return "l";    /* ł */
    case 0x0131: return "i";    /* ı */
    case 0x0127: return "h";    /* ħ */
    case 0x00FE: return "th";   /* þ */
    default: return NULL;
    }
}

/* The diacritic-free form of the folded word u[0..len) into out (at most
 * TOKEN_MAX bytes). Returns its length, 0 when it cannot be made. */
static size_t plain_form(struct scan *sc, const UChar *u, int32_t len, char *out)
{
    UErrorCode e = U_ZERO_ERROR;
    int32_t dl = unorm2_normalize(nfkd, u, len, sc->u2, U16_MAX, &e);
    size_t o = 0;
    if (U_FAILURE(e)) return 0;
    for (int32_t i = 0; i < dl;) {
        UChar32 c;
        char enc[4];
        const char *p;
        size_t k;
        U16_NEXT(sc->u2, i, dl, c);
        enum cls cl = c < 0x80 ? (ascii_word((unsigned char)c) ? C_WORD : C_SEP) : classify((uint32_t)c);
        if (cl != C_WORD && cl != C_MARK) continue;   /* compatibility forms may bring punctuation: "⒈" is "1." */
        if (u_charType(c) == U_NON_SPACING_MARK) {
            UErrorCode se = U_ZERO_ERROR;
            if (uscript_getScript(c, &se) == USCRIPT_INHERITED) continue;   /* a diacritic, not a vowel sign */
        }
        if ((p = plain_spelling(c)) != NULL) {
            k = strlen(p);
            memcpy(enc, p, k);
        } else {
            k = utf8_encode((uint32_t)fold(c), enc);
        }
        if (o + k > TOKEN_MAX) return 0;
        memcpy(out + o, enc, k);
        o += k;
    }
    return o;
}

/* A word with non-ASCII characters: folded and composed (NFC); in a text
 * also its diacritic-free form when that differs. */
static void unicode_word_out(struct scan *sc, const char *w, size_t n, char sign)
{
    int32_t len = 0;
    UChar *u = sc->u1;
    char *o = sc->out + 1;

    if (n > WORD_IN_MAX) return;
    pthread_once(&norm_once, norm_init);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l;
        enum cls k = next_class(w + i, n - i, &l, &cp);
        i += l;
        if (k == C_SKIP) continue;
        U16_APPEND_UNSAFE(u, len, fold((UChar32)cp));
    }
    if (nfc) {
        UErrorCode e = U_ZERO_ERROR;
        if (!unorm2_isNormalized(nfc, u, len, &e) && U_SUCCESS(e)) {
            int32_t nl = unorm2_normalize(nfc, u, len, sc->u2, U16_MAX, &e);
            if (U_SUCCESS(e)) {
                memcpy(u, sc->u2, (size_t)nl * sizeof *u);
                len = nl;
            }
        }
    }
    size_t exact = u16_to_utf8(u, len, o, TOKEN_MAX);
    if (exact == 0) return;
    emit(sc, exact, sign);
    if (sc->side != TOKEN_TEXT || nfkd == NULL) return;
    char plain[TOKEN_MAX];
    size_t pl = plain_form(sc, u, len, plain);
    if (pl == 0 || (pl == exact && memcmp(plain, o, pl) == 0)) return;
    memcpy(o, plain, pl);
    emit(sc, pl, sign);
}

/* An unspaced run being cut: the character before (prev) and the one
 * being read (cur), each with its marks, and the whole run so far. */
struct pairs {
    char prev[UNIT_MAX], cur[UNIT_MAX];
    size_t pl, cl, units;
    int pieces;                 /* give characters and pairs (not for a signed query run) */
    int compose;                /* cur may change under NFC */
    char whole[TOKEN_MAX];
    size_t wl;                  /* bytes of the run's units (whole holds them while they fit) */
};

/* Hangul vowel and final jamo: they compose (NFC) with the character before
 * them, so they belong to its unit, as marks do. */
static int hangul_trailing(uint32_t c)
{
    return (c >= 0x1160 && c <= 0x11FF) || (c >= 0xD7B0 && c <= 0xD7FF);
}

/* Compatibility ideographs: NFC maps them to the unified ones. */
static int cjk_compat(uint32_t c)
{
    return (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* cur composed (NFC), as words of other scripts are: か + U+3099 is が,
 * ᄒ ᅡ ᆫ is 한. Left as it is when the result would not fit. */
static void unit_compose(struct pairs *r)
{
    UChar u[UNIT_MAX], n[2 * UNIT_MAX];
    int32_t ul = 0, nl;
    uint32_t cp;
    char out[UNIT_MAX];
    UErrorCode e = U_ZERO_ERROR;

    pthread_once(&norm_once, norm_init);
    if (nfc == NULL) return;
    for (size_t i = 0, l; i < r->cl; i += l) {
        if ((l = utf8_decode(r->cur + i, r->cl - i, &cp)) == 0) return;
        U16_APPEND_UNSAFE(u, ul, (UChar32)cp);
    }
    nl = unorm2_normalize(nfc, u, ul, n, 2 * UNIT_MAX, &e);
    size_t ol = U_SUCCESS(e) ? u16_to_utf8(n, nl, out, UNIT_MAX) : 0;
    if (ol == 0) return;
    memcpy(r->cur, out, ol);
    r->cl = ol;
}

/* cur is complete: in a text, the character itself; on both sides, the pair
 * it makes with the one before. */
static void pairs_unit(struct scan *sc, struct pairs *r)
{
    char *o = sc->out + 1;
    if (r->compose) unit_compose(r);
    if (r->wl + r->cl <= TOKEN_MAX) memcpy(r->whole + r->wl, r->cur, r->cl);
    r->wl += r->cl;
    r->units++;
    if (r->pieces && sc->side == TOKEN_TEXT) {
        memcpy(o, r->cur, r->cl);
        call(sc, r->cl, 0);
    }
    if (r->pieces && r->pl > 0) {
        memcpy(o, r->prev, r->pl);
        memcpy(o + r->pl, r->cur, r->cl);
        call(sc, r->pl + r->cl, 0);
    }
    memcpy(r->prev, r->cur, r->cl);
    r->pl = r->cl;
    r->cl = 0;
}

/* An unspaced run: each character and each adjacent pair in a text;
 * the pairs (or the one character) in a query. A signed run is also one
 * token with its sign (in a query, only that). */
static void pairs_out(struct scan *sc, const char *w, size_t n, char sign)
{
    struct pairs r;
    size_t l;

    r.pl = r.cl = r.units = r.wl = 0;   /* not a memset: whole is written before it is read */
    r.compose = 0;
    r.pieces = !(sign && sc->side == TOKEN_QUERY);
    for (size_t i = 0; i < n; i += l) {
        uint32_t cp;
        enum cls k = next_class(w + i, n - i, &l, &cp);
        if (k == C_SKIP) continue;
        if (k == C_MARK || (r.cl > 0 && hangul_trailing(cp))) {   /* belongs to the character before it */
            if (r.cl + l <= UNIT_MAX) {
                memcpy(r.cur + r.cl, w + i, l);
                r.cl += l;
                r.compose = 1;
            }
            continue;
        }
        if (r.cl > 0) pairs_unit(sc, &r);
        memcpy(r.cur, w + i, l);         /* a character of the run (it holds nothing else) */
        r.cl = l;
        r.compose = cjk_compat(cp);
    }
    if (r.cl > 0) pairs_unit(sc, &r);
    if (r.pieces && sc->side == TOKEN_QUERY && r.units == 1) {
        memcpy(sc->out + 1, r.prev, r.pl);
        call(sc, r.pl, 0);
    }
    if (sign && r.wl <= TOKEN_MAX) {
        memcpy(sc->out + 1, r.whole, r.wl);
        call(sc, r.wl, sign);
    }
}

/* ---- scanning ---- */

/* The end of the run of class k (C_WORD or C_PAIRS) that starts at s[i]: marks
 * and skipped characters belong to it. *ascii: the run is plain ASCII. */
static size_t run_end(const char *s, size_t n, size_t i, enum cls k, int *ascii)
{
    *ascii = 1;
    while (i < n) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            if (k != C_WORD || !ascii_word(b)) break;
            i++;
            continue;
        }
        uint32_t cp;
        size_t l;
        enum cls c = next_class(s + i, n - i, &l, &cp);
        if (c != k && c != C_MARK && c != C_SKIP) break;
        *ascii = 0;
        i += l;
    }
    return i;
}

/* Cut s[0..n); sign applies to the first word when it starts at s[0]. */
static void scan_text(struct scan *sc, const char *s, size_t n, char sign)
{
    size_t i = 0;
    int after_word = 0;   /* a sign only counts at the start or after a non-word character */

    while (i < n) {
        uint32_t cp;
        size_t l;
        enum cls k = next_class(s + i, n - i, &l, &cp);
        switch (k) {
        case C_WORD:
        case C_PAIRS: {
            int ascii;
            size_t end = run_end(s, n, i, k, &ascii);
            if (k == C_PAIRS) pairs_out(sc, s + i, end - i, sign);
            else if (ascii) ascii_word_out(sc, s + i, end - i, sign);
            else unicode_word_out(sc, s + i, end - i, sign);
            i = end;
            sign = 0;
            after_word = 1;
            continue;
        }
        case C_FLAG: {
            uint32_t cp2;
            size_t l2 = 0;
            if (i + l < n && next_class(s + i + l, n - i - l, &l2, &cp2) == C_FLAG) l += l2;
            memcpy(sc->out + 1, s + i, l);
            call(sc, l, 0);
            break;
        }
        case C_EMOJI:
            memcpy(sc->out + 1, s + i, l);
            call(sc, l, 0);
            break;
        case C_SKIP:
        case C_MARK:                     /* a mark with no word before it */
            i += l;
            continue;
        case C_SEP:
            sign = 0;
            if (!after_word) {
                if (cp == '#' || cp == 0xFF03) sign = '#';
                else if (cp == '@' || cp == 0xFF20) sign = '@';
            }
            after_word = 0;
            i += l;
            continue;
        }
        sign = 0;                        /* after an emoji or a flag */
        after_word = 0;
        i += l;
    }
}

size_t token_scan(const char *s, size_t n, enum token_side side, token_fn fn, void *ctx)
{
    struct scan sc;
    sc.fn = fn;
    sc.ctx = ctx;
    sc.side = side;
    sc.count = 0;
    scan_text(&sc, s, n, 0);
    return sc.count;
}

/* A hashtag, mention or screen name: cut as if written with its sign. */
static void scan_entity(struct scan *sc, const jdoc *d, int node, char sign)
{
    size_t n;
    const char *s = jdoc_kind(d, node) == JDOC_STRING ? jdoc_str(d, node, &n) : NULL;
    if (s == NULL) return;
    if (n && s[0] == sign) {
        s++;
        n--;
    }
    scan_text(sc, s, n, sign);
}

static void scan_entities(struct scan *sc, const jdoc *d, int arr, char sign)
{
    if (jdoc_kind(d, arr) != JDOC_ARRAY) return;
    for (int e = jdoc_child(d, arr); e >= 0; e = jdoc_next(d, e)) scan_entity(sc, d, e, sign);
}

size_t token_tweet(const jdoc *d, token_fn fn, void *ctx)
{
    struct scan sc;
    size_t n;
    const char *s;

    if (jdoc_kind(d, 0) != JDOC_OBJECT) return 0;
    sc.fn = fn;
    sc.ctx = ctx;
    sc.side = TOKEN_TEXT;
    sc.count = 0;
    int v = jdoc_get(d, 0, "text");
    if (jdoc_kind(d, v) == JDOC_STRING && (s = jdoc_str(d, v, &n)) != NULL) scan_text(&sc, s, n, 0);
    scan_entities(&sc, d, jdoc_get(d, 0, "hashtags"), '#');
    scan_entities(&sc, d, jdoc_get(d, 0, "mentions"), '@');
    scan_entity(&sc, d, jdoc_get(d, jdoc_get(d, 0, "user"), "screen_name"), '@');
    return sc.count;
}

void token_fold(buf *out, const char *s, size_t n)
{
    buf_reserve(out, n);
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        uint32_t cp;
        size_t l;
        if (b < 0x80) {
            buf_appendc(out, (char)(b >= 'A' && b <= 'Z' ? b + 32 : b));
            i++;
            continue;
        }
        l = utf8_decode(s + i, n - i, &cp);
        if (l == 0) {
            buf_appendc(out, (char)b);
            i++;
            continue;
        }
        char enc[4];
        buf_append(out, enc, utf8_encode((uint32_t)fold((UChar32)cp), enc));
        i += l;
    }
}
