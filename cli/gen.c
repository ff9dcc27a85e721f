/* birdfeed gen — synthetic tweets, one per line, for demos, tests and benchmarks.
 *
 * Everything comes from a seeded PRNG (xoshiro256**) and small vocabularies
 * written for birdfeed, so a seed always gives the same stream: a few
 * thousand users whose activity and popularity follow a Zipf-like law,
 * seven languages (ja and ru among them), Zipf-distributed words, hashtags
 * and mentions, some URLs, about a quarter retweets of recent tweets, long
 * tweets in the v1.1 extended form, created_at advancing. Output is Twitter
 * API v1.1 (what `ingest` sees from a capture) or, with --canonical, what
 * the normaliser makes of it. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cli.h"
#include "tweet.h"
#include "util.h"

static const char gen_help[] =
    "Write synthetic tweets to standard output, one JSON object per line: Twitter API v1.1\n"
    "status objects by default, birdfeed's canonical form with --canonical. The same seed\n"
    "always gives the same tweets: a few thousand users of skewed activity, seven languages\n"
    "(en, es, ja, pt, ru, fr, de), Zipf-distributed words, hashtags and mentions, some URLs,\n"
    "about 25 % retweets, created_at advancing from 2024-05-01T00:00:00Z. No real data.\n"
    "Example: birdfeed gen --count 100000 | birdfeed ingest\n\n"
    "Exit status: 0 ok (also when the reader goes away), 1 writing failed or a generated\n"
    "tweet was rejected (a bug), 2 usage error.";

#define GEN_USERS 3000
#define GEN_RECENT 512            /* originals a retweet may point at */
#define GEN_START_MS 1714521600000LL   /* 2024-05-01T00:00:00Z */
#define TWITTER_EPOCH_MS 1288834974657LL

/* ---- PRNG: xoshiro256**, seeded through splitmix64 ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1). */
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n). */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ---- Zipf sampling over ranks 0..n-1 by a cumulative table ---- */

typedef struct zipf {
    double *cdf;
    size_t n;
} zipf;

static void zipf_init(zipf *z, size_t n, double s)
{
    double sum = 0;
    z->n = n;
    z->cdf = xmalloc(n * sizeof *z->cdf);
    for (size_t i = 0; i < n; i++) {
        sum += 1.0 / pow((double)(i + 1), s);
        z->cdf[i] = sum;
    }
    for (size_t i = 0; i < n; i++) z->cdf[i] /= sum;
}

static size_t zipf_draw(const zipf *z, rng *r)
{
    double u = rng_unit(r);
    size_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* ---- vocabularies (most frequent first: the Zipf draw favours the front) ---- */

static const char words_en[] =
    "the a to and is of in for this it on my with just so you today morning birds coffee feed new "
    "love rain sun city garden window spring sparrow robin finch heron crow owl nest song wings "
    "river park walk quiet early late again finally every little big bright grey weather train "
    "bus office code release bug server stream music book tea bread market friends weekend night "
    "clouds wind cold warm autumn migration feathers binoculars photo sketch lake marsh meadow "
    "hedge dawn chorus kestrel wren starling magpie goldfinch swallow swift puffin";
static const char words_es[] =
    "el la de que y en un una es por con para hoy mañana pájaros café ciudad jardín lluvia sol "
    "río parque canto nido alas primavera gorrión golondrina búho garza cigüeña amigos noche "
    "música libro tren trabajo fin semana frío calor nubes viento mercado pan foto lago";
static const char words_pt[] =
    "o a de que e do da em um uma para com hoje manhã pássaros café cidade jardim chuva sol rio "
    "parque canto ninho asas primavera sabiá beija-flor coruja garça andorinha amigos noite "
    "música livro trem trabalho frio calor nuvens vento feira pão foto lagoa praia";
static const char words_fr[] =
    "le la de et les un une est pour dans avec sur aujourd'hui matin oiseaux café ville jardin "
    "pluie soleil rivière parc chant nid ailes printemps moineau hirondelle hibou héron mésange "
    "rouge-gorge amis nuit musique livre train travail froid nuages vent marché pain photo étang";
static const char words_de[] =
    "der die und das ist in zu mit ein eine für auf heute morgen Vögel Kaffee Stadt Garten Regen "
    "Sonne Fluss Park Gesang Nest Flügel Frühling Spatz Schwalbe Eule Reiher Meise Rotkehlchen "
    "Freunde Nacht Musik Buch Zug Arbeit kalt warm Wolken Wind Markt Brot Foto See Wald";
static const char words_ru[] =
    "и в не на я что с это как сегодня утро птицы кофе город сад дождь солнце река парк песня "
    "гнездо крылья весна воробей ласточка сова цапля синица снегирь друзья ночь музыка книга "
    "поезд работа холодно тепло облака ветер рынок хлеб фото озеро лес зима снег";
static const char words_ja[] =
    "今日 の は が を に で と も 朝 鳥 コーヒー 街 庭 雨 晴れ 川 公園 歌 巣 春 スズメ ツバメ フクロウ サギ メジロ ウグイス 友達 夜 音楽 本 電車 仕事 寒い "
    "暖かい 雲 風 市場 パン 写真 湖 森 桜 散歩 かわいい すごい";

typedef struct lang_info {
    const char *code;
    const char *vocabulary;     /* words separated by spaces, most frequent first */
    const char *sep;            /* between words */
    const char *end;            /* sentence end */
    double share;               /* of users */
} lang_info;

#define LANG(c, w, sep, end, share) {c, w, sep, end, share}
static const lang_info langs[] = {
    LANG("en", words_en, " ", ".", 0.48), LANG("es", words_es, " ", ".", 0.12),
    LANG("ja", words_ja, "", "。", 0.11), LANG("pt", words_pt, " ", "!", 0.08),
    LANG("ru", words_ru, " ", ".", 0.08), LANG("fr", words_fr, " ", ".", 0.07),
    LANG("de", words_de, " ", ".", 0.06),
};

static const char *const tags[] = {
    "birdwatching", "birds", "spring", "nature", "photography", "birdfeed", "dawnchorus", "migration",
    "BirdsOfTwitter", "garden", "coffee", "rain", "weekend", "music", "tech", "opensource", "release",
    "Tokyo", "Madrid", "Lisboa", "Paris", "Berlin", "Москва", "東京", "野鳥", "птицы", "pájaros", "oiseaux",
    "Vögel", "sunrise", "citizenscience", "ebird", "wildlife", "conservation", "hiking", "city",
};

static const char *const syllables[] = {
    "ka", "ri", "mo", "ta", "ne", "lu", "si", "po", "ve", "da", "mi", "ro", "zu", "fe", "an", "el",
    "or", "is", "bo", "ly", "ko", "wa", "ni", "sa",
};
static const char *const first_names[] = {
    "Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Inés", "Jonas", "Keiko",
    "Lucas", "Marta", "Nikolai", "Olga", "Pedro", "Quentin", "Rosa", "Sven", "Tomoko", "Uma", "Victor",
    "Wen", "Ximena", "Yuki", "Zoé", "Анна", "Сергей", "さくら", "健太",
};
static const char *const last_names[] = {
    "Almeida", "Berger", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hoffmann", "Ito", "Jansen",
    "Kowalski", "López", "Martin", "Nakamura", "Oliveira", "Petrov", "Rossi", "Sato", "Tanaka", "Weber",
    "Иванова", "Смирнов", "佐藤", "鈴木",
};
static const char *const domains[] = {
    "example.com", "example.org", "example.net", "birds.example", "news.example", "photos.example",
};

/* ---- the generator's state ---- */

typedef struct user {
    char screen_name[24];
    char name[64];
    uint64_t id;
    long long followers, friends, statuses;
    int lang;
} user;

typedef struct original {
    uint64_t id;
    long long t_ms;
    int user;
    int lang;
    char *text;
    int tags[3], ntags;
    int mentions[2], nmentions;
    char url[64];               /* expanded URL, "" when none */
    char tco[32];
    long long retweets;
} original;

typedef struct gen {
    rng r;
    user *users;
    zipf user_zipf, tag_zipf, lang_zipf[ARRAY_LEN(langs)];
    char *vocab[ARRAY_LEN(langs)];          /* a copy of each vocabulary, split at the spaces */
    const char **words[ARRAY_LEN(langs)];   /* its words */
    double lang_cdf[ARRAY_LEN(langs)];
    original recent[GEN_RECENT];
    size_t nrecent;
    long long t_ms;
    uint32_t seq;
    long long step_ms;          /* mean gap between tweets */
} gen;

/* Split a space-separated vocabulary into *words (pointers into *copy, both
 * owned by the caller); returns how many words. */
static size_t split_words(const char *vocabulary, char **copy, const char ***words)
{
    size_t n = 0;
    *copy = xstrdup(vocabulary);
    *words = xcalloc(strlen(vocabulary) / 2 + 1, sizeof **words);
    for (char *save = NULL, *w = strtok_r(*copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) (*words)[n++] = w;
    return n;
}

static void gen_init(gen *g, uint64_t seed, double rate)
{
    double acc = 0;
    memset(g, 0, sizeof *g);
    rng_seed(&g->r, seed);
    zipf_init(&g->user_zipf, GEN_USERS, 0.75);
    zipf_init(&g->tag_zipf, ARRAY_LEN(tags), 1.1);
    for (size_t i = 0; i < ARRAY_LEN(langs); i++) {
        size_t nwords = split_words(langs[i].vocabulary, &g->vocab[i], &g->words[i]);
        zipf_init(&g->lang_zipf[i], nwords, 1.07);
        acc += langs[i].share;
        g->lang_cdf[i] = acc;
    }
    g->users = xcalloc(GEN_USERS, sizeof *g->users);
    for (int i = 0; i < GEN_USERS; i++) {
        user *u = &g->users[i];
        int ns = 2 + (int)rng_below(&g->r, 2);
        size_t len = 0;
        for (int k = 0; k < ns; k++)
            len += (size_t)snprintf(u->screen_name + len, sizeof u->screen_name - len, "%s",
                                    syllables[rng_below(&g->r, ARRAY_LEN(syllables))]);
        if (rng_below(&g->r, 3) == 0)
            snprintf(u->screen_name + len, sizeof u->screen_name - len, "_%s",
                     syllables[rng_below(&g->r, ARRAY_LEN(syllables))]);
        len = strlen(u->screen_name);
        snprintf(u->screen_name + len, sizeof u->screen_name - len, "%d", i);   /* unique */
        snprintf(u->name, sizeof u->name, "%s %s", first_names[rng_below(&g->r, ARRAY_LEN(first_names))],
                 last_names[rng_below(&g->r, ARRAY_LEN(last_names))]);
        u->id = 10000000ULL + (uint64_t)i * 7919 + rng_below(&g->r, 7919);
        /* rank i is as active as it is popular: followers fall off like 1/rank */
        u->followers = (long long)(2500000.0 / (i + 1) * (0.3 + rng_unit(&g->r) * 1.4)) + rng_below(&g->r, 300);
        u->friends = rng_below(&g->r, 2000);
        u->statuses = 100 + rng_below(&g->r, 50000);
        double x = rng_unit(&g->r) * acc;
        u->lang = 0;
        while (u->lang < (int)ARRAY_LEN(langs) - 1 && x >= g->lang_cdf[u->lang]) u->lang++;
    }
    g->t_ms = GEN_START_MS;
    g->step_ms = rate > 0 ? (long long)(1000.0 / rate) : 20;
    if (g->step_ms < 1) g->step_ms = 1;
}

static void gen_free(gen *g)
{
    free(g->users);
    free(g->user_zipf.cdf);
    free(g->tag_zipf.cdf);
    for (size_t i = 0; i < ARRAY_LEN(langs); i++) {
        free(g->lang_zipf[i].cdf);
        free(g->vocab[i]);
        free(g->words[i]);
    }
    for (size_t i = 0; i < GEN_RECENT; i++) free(g->recent[i].text);
}

/* Code points in s[0..n) (indices in v1.1 entities count characters). */
static long chars(const char *s, size_t n)
{
    long c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

/* ,"indices":[a,b] for the first occurrence of needle in text at or after *from. */
static void append_indices(buf *b, const char *text, const char *needle, size_t *from)
{
    const char *p = strstr(text + *from, needle);
    if (p == NULL) p = text;
    size_t off = (size_t)(p - text), n = strlen(needle);
    long a = chars(text, off);
    buf_printf(b, ",\"indices\":[%ld,%ld]", a, a + chars(p, n));
    *from = off + n;
}

static void append_user(buf *b, const user *u)
{
    buf_printf(b, "{\"id\":%llu,\"id_str\":\"%llu\",\"name\":", (unsigned long long)u->id,
               (unsigned long long)u->id);
    buf_append_json_str(b, u->name, strlen(u->name));
    buf_appends(b, ",\"screen_name\":");
    buf_append_json_str(b, u->screen_name, strlen(u->screen_name));
    buf_printf(b, ",\"location\":null,\"url\":null,\"description\":\"synthetic birdfeed user\","
                  "\"protected\":false,\"verified\":%s,\"followers_count\":%lld,\"friends_count\":%lld,"
                  "\"listed_count\":%lld,\"favourites_count\":%lld,\"statuses_count\":%lld,"
                  "\"created_at\":\"Sat Jan 01 00:00:00 +0000 2011\",\"utc_offset\":null,\"time_zone\":null,"
                  "\"geo_enabled\":false,\"lang\":null,\"profile_image_url_https\":"
                  "\"https://img.example/profile/%llu_normal.png\",\"default_profile\":true,"
                  "\"following\":null,\"follow_request_sent\":null,\"notifications\":null}",
               u->followers > 1000000 ? "true" : "false", u->followers, u->friends, u->followers / 200,
               u->statuses / 3, u->statuses, (unsigned long long)u->id);
}

static void append_date(buf *b, long long t_ms)
{
    static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    buf_printf(b, "\"%s %s %02d %02d:%02d:%02d +0000 %04d\"", wd[(t / 86400) % 7], mon[tm.tm_mon], tm.tm_mday,
               tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

/* "entities":{…} for text with the original's tags, mentions and URL;
 * extra_mention (or -1) is the retweeted author, named first. */
static void append_entities(gen *g, buf *b, const char *text, const original *o, int extra_mention)
{
    size_t from = 0;
    char needle[96];

    buf_appends(b, "{\"hashtags\":[");
    for (int i = 0; i < o->ntags; i++) {
        if (i) buf_appendc(b, ',');
        buf_appends(b, "{\"text\":");
        buf_append_json_str(b, tags[o->tags[i]], strlen(tags[o->tags[i]]));
        snprintf(needle, sizeof needle, "#%s", tags[o->tags[i]]);
        append_indices(b, text, needle, &from);
        buf_appendc(b, '}');
    }
    buf_appends(b, "],\"symbols\":[],\"user_mentions\":[");
    from = 0;
    for (int i = -1, first = 1; i < o->nmentions; i++) {
        int m = i < 0 ? extra_mention : o->mentions[i];
        if (m < 0) continue;
        const user *u = &g->users[m];
        if (!first) buf_appendc(b, ',');
        first = 0;
        buf_appends(b, "{\"screen_name\":");
        buf_append_json_str(b, u->screen_name, strlen(u->screen_name));
        buf_appends(b, ",\"name\":");
        buf_append_json_str(b, u->name, strlen(u->name));
        buf_printf(b, ",\"id\":%llu,\"id_str\":\"%llu\"", (unsigned long long)u->id, (unsigned long long)u->id);
        snprintf(needle, sizeof needle, "@%s", u->screen_name);
        append_indices(b, text, needle, &from);
        buf_appendc(b, '}');
    }
    buf_appends(b, "],\"urls\":[");
    if (o->url[0]) {
        from = 0;
        buf_appends(b, "{\"url\":");
        buf_append_json_str(b, o->tco, strlen(o->tco));
        buf_appends(b, ",\"expanded_url\":");
        buf_append_json_str(b, o->url, strlen(o->url));
        buf_appends(b, ",\"display_url\":");
        buf_append_json_str(b, o->url + 8, strlen(o->url + 8));
        append_indices(b, text, o->tco, &from);
        buf_appendc(b, '}');
    }
    buf_appends(b, "]}");
}

static uint64_t next_id(gen *g)
{
    return ((uint64_t)(g->t_ms - TWITTER_EPOCH_MS) << 22) | (g->seq++ & 0x3FFFFF);
}

/* A new original tweet into o (its text owned by o). */
static void make_original(gen *g, original *o)
{
    buf text = BUF_INIT;
    int u = (int)zipf_draw(&g->user_zipf, &g->r);
    int l = g->users[u].lang;
    const lang_info *li = &langs[rng_below(&g->r, 10) == 0 ? 0 : l];   /* some users switch to English */
    int nwords = 4 + (int)rng_below(&g->r, 10) + (rng_below(&g->r, 8) == 0 ? 25 : 0);   /* some long ones */
    double p = rng_unit(&g->r);

    free(o->text);
    memset(o, 0, sizeof *o);
    o->user = u;
    o->lang = (int)(li - langs);
    o->ntags = p < 0.45 ? 0 : p < 0.8 ? 1 : p < 0.95 ? 2 : 3;
    for (int i = 0; i < o->ntags; i++) o->tags[i] = (int)zipf_draw(&g->tag_zipf, &g->r);
    if (o->ntags == 2 && o->tags[1] == o->tags[0]) o->ntags = 1;
    if (o->ntags == 3 && (o->tags[2] == o->tags[0] || o->tags[2] == o->tags[1])) o->ntags = 2;
    p = rng_unit(&g->r);
    o->nmentions = p < 0.7 ? 0 : p < 0.93 ? 1 : 2;
    for (int i = 0; i < o->nmentions; i++) {
        o->mentions[i] = (int)zipf_draw(&g->user_zipf, &g->r);
        if (o->mentions[i] == u || (i == 1 && o->mentions[1] == o->mentions[0])) o->nmentions = i;
    }

    for (int i = 0; i < o->nmentions; i++) buf_printf(&text, "@%s ", g->users[o->mentions[i]].screen_name);
    for (int i = 0; i < nwords; i++) {
        const char *w = g->words[o->lang][zipf_draw(&g->lang_zipf[o->lang], &g->r)];
        if (i) buf_appends(&text, li->sep);
        buf_appends(&text, w);
    }
    buf_appends(&text, li->end);
    for (int i = 0; i < o->ntags; i++) buf_printf(&text, " #%s", tags[o->tags[i]]);
    if (rng_below(&g->r, 100) < 15) {
        static const char b62[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char code[11];
        for (int i = 0; i < 10; i++) code[i] = b62[rng_below(&g->r, 62)];
        code[10] = '\0';
        snprintf(o->tco, sizeof o->tco, "https://t.co/%s", code);
        snprintf(o->url, sizeof o->url, "https://%s/%s/%u", domains[rng_below(&g->r, ARRAY_LEN(domains))],
                 li->code, rng_below(&g->r, 100000));
        buf_printf(&text, " %s", o->tco);
    }
    o->text = buf_detach(&text, NULL);
    o->id = next_id(g);
    o->t_ms = g->t_ms;
    o->retweets = 0;
}

/* The v1.1 status object showing text by text_user, with o's lang and
 * entities, without the closing brace (so a caller can still add sent_us).
 * retweet_of: the original a retweet embeds, or NULL. */
static void append_status(gen *g, buf *b, const original *o, const char *text, int text_user, uint64_t id,
                          long long t_ms, int extra_mention, const original *retweet_of, long long retweets)
{
    long n = chars(text, strlen(text));
    buf_printf(b, "{\"created_at\":");
    append_date(b, t_ms);
    buf_printf(b, ",\"id\":%llu,\"id_str\":\"%llu\",\"text\":", (unsigned long long)id, (unsigned long long)id);
    if (n > 140 && retweet_of == NULL) {
        /* long tweet: truncated text plus extended_tweet, as the streaming API sends it */
        size_t cut = 0;
        long c = 0;
        while (text[cut] && c < 139) {
            cut++;
            while (((unsigned char)text[cut] & 0xC0) == 0x80) cut++;
            c++;
        }
        buf t = BUF_INIT;
        buf_append(&t, text, cut);
        buf_appends(&t, "…");
        buf_append_json_str(b, t.data, t.len);
        buf_free(&t);
        buf_appends(b, ",\"truncated\":true");
    } else {
        buf_append_json_str(b, text, strlen(text));
        buf_appends(b, ",\"truncated\":false");
    }
    buf_appends(b, ",\"source\":\"<a href=\\\"https://birdfeed.example/gen\\\" rel=\\\"nofollow\\\">birdfeed gen</a>\","
                   "\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\"in_reply_to_user_id\":null,"
                   "\"in_reply_to_user_id_str\":null,\"in_reply_to_screen_name\":null,\"user\":");
    append_user(b, &g->users[text_user]);
    buf_appends(b, ",\"geo\":null,\"coordinates\":null,\"place\":null,\"contributors\":null");
    if (retweet_of) {
        buf_appends(b, ",\"retweeted_status\":");
        append_status(g, b, retweet_of, retweet_of->text, retweet_of->user, retweet_of->id, retweet_of->t_ms, -1,
                      NULL, retweets);
        buf_appendc(b, '}');
    }
    buf_printf(b, ",\"is_quote_status\":false,\"quote_count\":0,\"reply_count\":%u,\"retweet_count\":%lld,"
                  "\"favorite_count\":%lld,\"entities\":",
               rng_below(&g->r, 5), retweets, retweets * 3 + rng_below(&g->r, 10));
    if (n > 140 && retweet_of == NULL) {
        original none = {0};
        append_entities(g, b, "", &none, -1);
        buf_appends(b, ",\"extended_tweet\":{\"full_text\":");
        buf_append_json_str(b, text, strlen(text));
        buf_printf(b, ",\"display_text_range\":[0,%ld],\"entities\":", n);
        append_entities(g, b, text, o, extra_mention);
        buf_appendc(b, '}');
    } else
        append_entities(g, b, text, o, extra_mention);
    buf_printf(b, ",\"favorited\":false,\"retweeted\":false,\"filter_level\":\"low\",\"lang\":\"%s\","
                  "\"timestamp_ms\":\"%lld\"",
               langs[o->lang].code, t_ms);
}

/* The next tweet (v1.1, no closing brace) into b. */
static void gen_next(gen *g, buf *b)
{
    /* exponential gaps around the mean step */
    g->t_ms += (long long)(-log(1.0 - rng_unit(&g->r)) * (double)g->step_ms);
    if (g->nrecent > 20 && rng_below(&g->r, 100) < 25) {
        /* a retweet of a recent original, popular authors more often */
        size_t k = g->nrecent < GEN_RECENT ? g->nrecent : GEN_RECENT;
        original *o = NULL;
        for (int c = 0; c < 3; c++) {   /* best of three draws: popular authors get retweeted more */
            original *cand = &g->recent[(g->nrecent - 1 - rng_below(&g->r, (uint32_t)k)) % GEN_RECENT];
            if (o == NULL || cand->user < o->user) o = cand;
        }
        int u = (int)zipf_draw(&g->user_zipf, &g->r);
        buf text = BUF_INIT;
        o->retweets++;
        buf_printf(&text, "RT @%s: %s", g->users[o->user].screen_name, o->text);
        append_status(g, b, o, text.data, u, next_id(g), g->t_ms, o->user, o, o->retweets);
        buf_free(&text);
        return;
    }
    original *o = &g->recent[g->nrecent % GEN_RECENT];
    make_original(g, o);
    g->nrecent++;
    append_status(g, b, o, o->text, o->user, o->id, o->t_ms, -1, NULL, 0);
}

/* ---- the command ---- */

typedef struct gen_opts {
    long long count, seed;
    double rate;
    int canonical, stamp;
} gen_opts;

static const gen_opts gen_defaults = {.count = 1000, .seed = 1, .rate = 0, .canonical = 0, .stamp = 0};

/* --rate: tweets per second, a number above 0 and at most 10^7. */
static int parse_rate(const char *arg, void *field, char *why, size_t whylen)
{
    char *end;
    errno = 0;
    double r = strtod(arg, &end);
    if (errno || end == arg || *end || !(r > 0) || r > 10000000) {
        snprintf(why, whylen, "not a rate (want tweets per second, more than 0 and at most 10^7)");
        return -1;
    }
    *(double *)field = r;
    return 0;
}

static const cli_option gen_options[] = {
    CLI_OPT_INT("count", 'n', "N", gen_opts, count, 0, 1000000000000LL,
                "how many tweets (default 1000); 0 with --rate: until killed"),
    CLI_OPT_INT("seed", 's', "S", gen_opts, seed, 0, INT64_MAX, "PRNG seed (default 1)"),
    CLI_OPT_CUSTOM("rate", 'r', "R", gen_opts, rate, parse_rate, "pace output at R tweets per second, flushing each line"),
    CLI_OPT_FLAG("canonical", 0, gen_opts, canonical, "write canonical tweets (what ingest publishes) instead of v1.1"),
    CLI_OPT_FLAG("stamp", 0, gen_opts, stamp, "set sent_us to the wall clock (µs) as each line is written"),
    CLI_OPT_END,
};

/* Sleep until the monotonic time target_us (now_us's clock). */
static void sleep_until(uint64_t target_us)
{
    uint64_t now;
    while ((now = now_us()) < target_us) sleep_us((long long)(target_us - now));
}

/* The next tweet as one line in line (v1.1) or canon (--canonical);
 * returns the buffer holding it, or NULL when the normaliser rejects it. */
static buf *next_line(gen *g, const gen_opts *o, buf *line, buf *canon)
{
    char err[256];
    buf_reset(line);
    gen_next(g, line);
    buf_appendc(line, '}');
    if (!o->canonical) return line;
    buf_reset(canon);
    if (tweet_normalize(line->data, line->len, 0, canon, err, sizeof err) < 0) {
        /* the generator and the normaliser disagree: a bug, say so loudly */
        fprintf(stderr, "birdfeed gen: generated tweet rejected: %s\n", err);
        return NULL;
    }
    return canon;
}

static int gen_run(void *opts, config *cfg, int argc, char **argv)
{
    const gen_opts *o = opts;
    gen g;
    buf line = BUF_INIT, canon = BUF_INIT;
    uint64_t start_us;
    int status = CLI_EXIT_OK;

    (void)cfg;
    (void)argc;
    (void)argv;
    if (o->count == 0 && o->rate <= 0) {
        fprintf(stderr, "birdfeed gen: --count 0 (run until killed) needs --rate\n");
        return CLI_EXIT_USAGE;
    }
    if (o->rate <= 0) setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    gen_init(&g, (uint64_t)o->seed, o->rate);
    start_us = now_us();
    for (long long i = 0; o->count == 0 || i < o->count; i++) {
        buf *b = next_line(&g, o, &line, &canon);
        if (b == NULL) {
            status = CLI_EXIT_PARTIAL;
            break;
        }
        if (o->rate > 0) sleep_until(start_us + (uint64_t)((double)i * 1e6 / o->rate));
        if (o->stamp) {
            b->len--;   /* reopen the object: sent_us is the last canonical key */
            buf_printf(b, ",\"sent_us\":%llu}", (unsigned long long)wall_us());
        }
        buf_appendc(b, '\n');
        if (fwrite(b->data, 1, b->len, stdout) != b->len || (o->rate > 0 && fflush(stdout) != 0)) break;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE) {
            fprintf(stderr, "birdfeed gen: writing standard output: %s\n", strerror(errno));
            status = CLI_EXIT_PARTIAL;
        }
    }
    buf_free(&line);
    buf_free(&canon);
    gen_free(&g);
    return status;
}

const cli_command cli_cmd_gen = {
    .name = "gen", .summary = "write synthetic tweets (Twitter v1.1 or canonical), one per line", .max_operands = 0,
    .synopsis = "[--count N] [--seed S] [--rate R] [--canonical] [--stamp]", .description = gen_help,
    CLI_OPTIONS(gen_opts, gen_options, &gen_defaults), .run = gen_run,
};
