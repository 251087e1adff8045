#include "config.h"

#include "loader.h"
