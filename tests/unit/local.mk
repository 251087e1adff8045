# Unit suites, one program per host module.
