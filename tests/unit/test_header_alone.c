/* The public header compiles on its own, with nothing included before it. */
#include <wsref/wsref.h>

int main(void)
{
	struct wsr_frame_header h = {0};
	return h.fin ? 1 : 0;
}
