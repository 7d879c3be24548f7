/*
 * cli.h - the wsconform command line (docs/cli.md is the user guide).
 *
 * Exit codes: 0 every selected case passed, 1 some failed, 2 usage or
 * configuration error, 3 could not test (unreachable, target never listened,
 * run interrupted or incomplete), 4 the target crashed.
 */
#ifndef WSC_CLI_H
#define WSC_CLI_H

enum {
	WSC_EXIT_PASS = 0,
	WSC_EXIT_FAIL = 1,
	WSC_EXIT_USAGE = 2,
	WSC_EXIT_UNTESTED = 3,
	WSC_EXIT_CRASH = 4,
};

/*
 * Run the program. argv is the process's own (getopt may permute it).
 * version: printed by --version and stored in reports; must outlive the call.
 * Returns the exit status.
 */
int wsc_cli_main(int argc, char **argv, const char *version);

#endif
