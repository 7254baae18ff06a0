/* cli.h: the verbs of the firebreak command line, one file each under src/cli/. */
#pragma once

/* Exit codes, shared by every verb and documented in firebreak(8). */
enum {
        FB_EXIT_OK = 0,
        FB_EXIT_INPUT = 1,  /* some input was rejected (bad alert, unreadable file); rest done */
        FB_EXIT_USAGE = 2,  /* bad command line, or configuration/knowledge base invalid */
        FB_EXIT_OUTPUT = 3, /* a report or result could not be written */
        FB_EXIT_ENGINE = 4, /* the container engine could not be reached or failed */
};

/* Each verb gets argv starting at its own name and returns an exit code. */
int fb_verb_triage(int argc, char **argv);
int fb_verb_container(int argc, char **argv);

/* Loads the built-in knowledge base plus --kb paths (and /etc/firebreak/kb.d when present and
 * no --kb was given). Logs any error with its file, line and column. Returns 0 or -errno. */
struct fb_kb;
int fb_cli_load_kb(char **paths, int n_paths, struct fb_kb **ret);
