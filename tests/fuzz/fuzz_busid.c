/* fuzz_busid — libFuzzer target for bus_id_parse, the Last-Event-ID parser.
 *
 *   make fuzz FUZZ_SECONDS=60        (clang: -fsanitize=fuzzer,address,undefined)
 *
 * Checks the contract against an independent reading of it: an id is
 * "<ms>" or "<ms>-<seq>", each 1..20 ASCII digits whose value fits in 64
 * bits; nothing else is accepted. An accepted id formats to text that parses
 * back to the same id, and next/prev stay ordered around it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reference: digits only, 1..20 of them, value ≤ UINT64_MAX (compared as text). */
static int ref_u64(const char *s, size_t n, uint64_t *out)
{
    static const char max[] = "18446744073709551615";
    size_t i = 0;
    if (n == 0) return -1;
    for (size_t k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return -1;
    while (i < n - 1 && s[i] == '0') i++;               /* leading zeros do not count */
    if (n - i > 20) return -1;
    if (n - i == 20 && memcmp(s + i, max, 20) > 0) return -1;
    uint64_t v = 0;
    for (; i < n; i++) v = v * 10 + (uint64_t)(s[i] - '0');
    *out = v;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    bus_id id, ref = {0, 0}, back;
    char text[BUS_ID_MAX];
    int rc = bus_id_parse(s, size, &id);

    /* The reference: split at the first '-'; both sides numbers. */
    const char *dash = memchr(s, '-', size);
    int want;
    if (dash == NULL) {
        want = ref_u64(s, size, &ref.ms);
    } else {
        size_t a = (size_t)(dash - s);
        want = ref_u64(s, a, &ref.ms) == 0 && ref_u64(dash + 1, size - a - 1, &ref.seq) == 0 ? 0 : -1;
    }
    /* The parser may be stricter about leading zeros (≤ 20 digits in all), never laxer. */
    if (rc == 0 && want != 0) abort();
    if (want == 0 && rc != 0) {
        size_t a = dash ? (size_t)(dash - s) : size, b = dash ? size - a - 1 : 0;
        if (a <= 20 && b <= 20) abort();
    }
    if (rc != 0) return 0;
    if (id.ms != ref.ms || id.seq != ref.seq) abort();

    bus_id_format(id, text);
    if (bus_id_parse(text, strlen(text), &back) != 0 || bus_id_cmp(back, id) != 0) abort();
    if (bus_id_cmp(id, id) != 0) abort();
    bus_id nx = bus_id_next(id), pv = bus_id_prev(id);
    if (!(id.ms == UINT64_MAX && id.seq == UINT64_MAX) && bus_id_cmp(nx, id) <= 0) abort();
    if (!(id.ms == 0 && id.seq == 0) && bus_id_cmp(pv, id) >= 0) abort();
    if (bus_id_cmp(bus_id_prev(nx), id) != 0 && !(id.ms == UINT64_MAX && id.seq == UINT64_MAX)) abort();
    return 0;
}
