/* main.c - the wsconform program; everything lives in cli.c. */
#include "cli.h"

#ifndef WSC_VERSION
#define WSC_VERSION "unknown"
#endif

int main(int argc, char **argv)
{
	return wsc_cli_main(argc, argv, WSC_VERSION);
}
