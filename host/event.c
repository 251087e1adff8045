#include "config.h"

#include "event.h"
