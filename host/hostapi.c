#include "config.h"

#include "hostapi.h"
