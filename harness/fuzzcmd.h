/*
 * fuzzcmd.h - `wsconform fuzz`: network fuzzing of a WebSocket server with
 * mutated catalog traffic (docs/fuzzing.md is the user guide).
 *
 *   wsconform fuzz URL [--exec 'CMD {port}'] [--seconds N] [--runs N]
 *                      [--seed S] [--cases P] [--out DIR] [-j N]
 *                      [--max-rss-mb N] [--probe-timeout S] [-q]
 *
 * Every mutated case is an in-memory wsc_case run by wsc_engine_run();
 * findings are minimized and saved as replayable .wsc files.
 */
#ifndef WSC_FUZZCMD_H
#define WSC_FUZZCMD_H

/*
 * Run the fuzz command. argv[0] is the word "fuzz" (the caller strips the
 * program name), the options follow. Returns an exit status: 0 no finding,
 * 1 findings saved, 2 usage error, 3 could not run (target never listened,
 * output directory unwritable).
 */
int wsc_fuzz_main(int argc, char **argv);

#endif
