/* fuzz_smtp_parse.c
 * libFuzzer target for reading SMTP commands and replies (smtp_parse.c):
 * the input is one line. Every offset returned must lie inside the line,
 * every reply code must be one a reply can have.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "fuzz_check.h"
#include "smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t param = (size_t)-1, n;
    sp_command_t cmd, guess;
    sp_reply_t r;
    guint64 bdat_size = 0;
    gboolean last = FALSE;

    cmd = sp_parse_command(data, size, &param);
    FUZZ_CHECK(cmd >= SP_CMD_UNKNOWN && cmd <= SP_CMD_HELP);
    FUZZ_CHECK(param <= size);
    FUZZ_CHECK(sp_command_name(cmd) != NULL);
    FUZZ_CHECK(sp_parse_command(data, size, NULL) == cmd);
    if (cmd != SP_CMD_UNKNOWN)
        FUZZ_CHECK(g_ascii_strncasecmp((const char *)data, sp_command_name(cmd), strlen(sp_command_name(cmd))) == 0);

    /* Guessing from every prefix; a whole command word guesses itself. */
    for (n = 0; n <= size && n <= 16; n++) {
        guess = sp_guess_command(data, n);
        FUZZ_CHECK(guess >= SP_CMD_UNKNOWN && guess <= SP_CMD_HELP);
    }
    if (cmd != SP_CMD_UNKNOWN && param < size && param > 0 && data[param - 1] == ' ')
        FUZZ_CHECK(sp_guess_command(data, size) == cmd);

    if (sp_parse_reply(data, size, &r)) {
        FUZZ_CHECK(r.code >= 200 && r.code <= 599);
        FUZZ_CHECK(r.text <= size);
        FUZZ_CHECK(r.code / 100 == (guint)(data[0] - '0'));
        if (r.has_enhanced)
            FUZZ_CHECK(r.enh_class == 2 || r.enh_class == 4 || r.enh_class == 5);
        FUZZ_CHECK(r.enh_subject <= 999 && r.enh_detail <= 999);
    } else {
        FUZZ_CHECK(r.code == 0 && !r.has_enhanced);
    }

    /* The BDAT reader, as the line splitter feeds it: the whole line. */
    {
        sp_bdat_reader_t br;
        size_t i;

        sp_bdat_init(&br);
        for (i = 0; i < size && sp_bdat_possible(&br); i++)
            sp_bdat_step(&br, data[i]);
        if (sp_bdat_done(&br, &bdat_size, &last))
            FUZZ_CHECK(cmd == SP_CMD_BDAT && size - param > 0 && g_ascii_isdigit(data[param]));
    }
    return 0;
}
