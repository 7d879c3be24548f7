/*
 * spec.h - `wsconform --spec FILE`: run an Autobahn|Testsuite spec file
 * unchanged. fuzzingclient.json (a "servers" list) tests servers;
 * fuzzingserver.json (a "url") tests clients (docs/migration.md).
 */
#ifndef WSC_SPEC_H
#define WSC_SPEC_H

/*
 * argv holds "--spec FILE" (or "--spec=FILE") and optionally --exec CMD
 * (fuzzingserver: the client to start), --junit FILE, -q. Returns the exit
 * status (cli.h).
 */
int wsc_spec_main(int argc, char **argv, const char *version);

#endif
