#include "config.h"

#include "tag.h"
