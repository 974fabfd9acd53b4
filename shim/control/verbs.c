#include "control/verbs.h"
#include "control/status.h"
#include "versions/versions.h"

#include <stdio.h>
#include <string.h>

bool answer_common(const struct request *req, void (*fill)(struct status *), const struct config *c, char *text,
                   size_t n) {
        static struct status st;

        switch (req->verb) {
        case VERB_PING:
                snprintf(text, n, "ok\npong\n");
                return true;
        case VERB_STATUS:
                if (req->arg[0] && strcmp(req->arg, "json") != 0) {
                        snprintf(text, n, "error: status takes no argument but 'json'\n");
                        return true;
                }
                fill(&st);
                memcpy(text, "ok\n", 3);
                if (req->arg[0])
                        status_format_json(&st, text + 3, n - 3);
                else
                        status_format_text(&st, text + 3, n - 3);
                return true;
        case VERB_VERSIONS:
                memcpy(text, "ok\n", 3);
                versions_report(c, text + 3, n - 3);
                return true;
        default:
                return false;
        }
}
