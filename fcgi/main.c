/* birdfeed-fcgi — the FastCGI responder (placeholder until the hub lands). */
#include <stdio.h>
#include <string.h>

#include "config.h"

int main(int argc, char **argv)
{
    config cfg;
    char err[256];
    config_init(&cfg);
    if (config_load_env(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "birdfeed-fcgi: %s\n", err);
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "--check-config") == 0) config_print(&cfg, stdout);
    config_free(&cfg);
    return 0;
}
