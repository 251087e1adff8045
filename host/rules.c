#include "config.h"

#include "rules.h"
