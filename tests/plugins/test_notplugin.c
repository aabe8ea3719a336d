/* test_notplugin.c: a shared object that is not a synbridge plugin. */
#include "config.h"

int test_notplugin_answer(void);

/* Something to export. */
int
test_notplugin_answer(void)
{
	return 42;
}
