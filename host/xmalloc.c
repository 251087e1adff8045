#include "config.h"

#include "xmalloc.h"
