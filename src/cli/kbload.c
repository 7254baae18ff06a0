/* kbload.c: knowledge base loading shared by the verbs that write reports. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "firebreak/cli.h"
#include "firebreak/kb.h"
#include "firebreak/log.h"

#ifndef FB_SYSCONFDIR
#define FB_SYSCONFDIR "/etc"
#endif

static int report(int r, const char *where, const struct fb_yaml_error *err) {
        if (r == -EINVAL)
                log_error("%s:%u:%u: %s", where, err->line, err->column, err->text);
        else if (r == -E2BIG)
                log_error("%s: too many knowledge base files or rules", where);
        else
                log_error_errno(r, "%s: %m", where);
        return r;
}

int fb_cli_load_kb(char **paths, int n_paths, struct fb_kb **ret) {
        static const char sys_dir[] = FB_SYSCONFDIR "/firebreak/kb.d";
        struct fb_yaml_error err = { 0 };
        struct fb_kb *kb = NULL;
        struct stat st;
        char where[4096];
        int r, i;

        r = fb_kb_new_builtin(&kb, &err, where, sizeof(where));
        if (r < 0)
                return report(r, where, &err);
        if (n_paths == 0 && stat(sys_dir, &st) >= 0 && S_ISDIR(st.st_mode)) {
                r = fb_kb_load_path(kb, sys_dir, &err, where, sizeof(where));
                if (r < 0) {
                        fb_kb_free(kb);
                        return report(r, where, &err);
                }
        }
        for (i = 0; i < n_paths; i++) {
                r = fb_kb_load_path(kb, paths[i], &err, where, sizeof(where));
                if (r < 0) {
                        fb_kb_free(kb);
                        return report(r, where, &err);
                }
        }
        *ret = kb;
        return 0;
}
