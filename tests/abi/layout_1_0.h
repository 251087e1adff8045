/*
 * The layout of every struct of the released SDK 1.0 (tests/abi/1.0),
 * field by field, as an X-macro: X(type, field, offset, size), offsets and
 * sizes as on LP64 (x86_64, aarch64, ...).  Frozen: never edit a line.
 * A later minor may only add lines at the end of a struct's block.
 *
 * check_abi.c turns it into _Static_asserts against the current header
 * (so a field inserted mid-struct, retyped or reordered does not compile)
 * and, on any platform, compares offsets and sizes computed from the
 * frozen header with those of the current one.
 */
#ifndef TTPD_ABI_LAYOUT_1_0_H
#define TTPD_ABI_LAYOUT_1_0_H

#define ABI_1_0_STRUCT_SIZES(S) \
	S(ttpd_err, 256) \
	S(ttpd_emit, 40) \
	S(ttpd_rule, 120) \
	S(ttpd_event, 64) \
	S(ttpd_config_key, 24) \
	S(ttpd_host, 248) \
	S(ttpd_lifter, 104) \

#define ABI_1_0_FIELDS(X) \
	X(ttpd_err, msg, 0, 256) \
	X(ttpd_emit, size, 0, 4) \
	X(ttpd_emit, tactic, 8, 8) \
	X(ttpd_emit, technique_id, 16, 8) \
	X(ttpd_emit, sub_technique_id, 24, 8) \
	X(ttpd_emit, confidence, 32, 8) \
	X(ttpd_rule, size, 0, 4) \
	X(ttpd_rule, rule_id, 8, 8) \
	X(ttpd_rule, rule_version, 16, 8) \
	X(ttpd_rule, name, 24, 8) \
	X(ttpd_rule, kind, 32, 8) \
	X(ttpd_rule, match, 40, 8) \
	X(ttpd_rule, applies_to, 48, 8) \
	X(ttpd_rule, n_applies_to, 56, 8) \
	X(ttpd_rule, emits, 64, 8) \
	X(ttpd_rule, n_emits, 72, 8) \
	X(ttpd_rule, evidence_fields, 80, 8) \
	X(ttpd_rule, n_evidence_fields, 88, 8) \
	X(ttpd_rule, path, 96, 8) \
	X(ttpd_rule, line, 104, 4) \
	X(ttpd_rule, prepared, 112, 8) \
	X(ttpd_event, size, 0, 4) \
	X(ttpd_event, source_kind, 8, 8) \
	X(ttpd_event, source_id, 16, 8) \
	X(ttpd_event, attacker_uuid, 24, 8) \
	X(ttpd_event, identity_uuid, 32, 8) \
	X(ttpd_event, session_id, 40, 8) \
	X(ttpd_event, decky_id, 48, 8) \
	X(ttpd_event, payload, 56, 8) \
	X(ttpd_config_key, name, 0, 8) \
	X(ttpd_config_key, type, 8, 4) \
	X(ttpd_config_key, required, 12, 4) \
	X(ttpd_config_key, description, 16, 8) \
	X(ttpd_host, size, 0, 4) \
	X(ttpd_host, abi_major, 4, 2) \
	X(ttpd_host, abi_minor, 6, 2) \
	X(ttpd_host, log, 8, 8) \
	X(ttpd_host, config_string, 16, 8) \
	X(ttpd_host, config_int, 24, 8) \
	X(ttpd_host, config_real, 32, 8) \
	X(ttpd_host, config_bool, 40, 8) \
	X(ttpd_host, config_value, 48, 8) \
	X(ttpd_host, value_type, 56, 8) \
	X(ttpd_host, object_get, 64, 8) \
	X(ttpd_host, pointer_get, 72, 8) \
	X(ttpd_host, get_string, 80, 8) \
	X(ttpd_host, get_int, 88, 8) \
	X(ttpd_host, get_number, 96, 8) \
	X(ttpd_host, get_bool, 104, 8) \
	X(ttpd_host, array_size, 112, 8) \
	X(ttpd_host, array_get, 120, 8) \
	X(ttpd_host, object_size, 128, 8) \
	X(ttpd_host, object_foreach, 136, 8) \
	X(ttpd_host, new_object, 144, 8) \
	X(ttpd_host, new_array, 152, 8) \
	X(ttpd_host, new_string, 160, 8) \
	X(ttpd_host, new_int, 168, 8) \
	X(ttpd_host, new_real, 176, 8) \
	X(ttpd_host, new_bool, 184, 8) \
	X(ttpd_host, new_null, 192, 8) \
	X(ttpd_host, object_set, 200, 8) \
	X(ttpd_host, array_append, 208, 8) \
	X(ttpd_host, rules_for, 216, 8) \
	X(ttpd_host, evidence_from_fields, 224, 8) \
	X(ttpd_host, emit, 232, 8) \
	X(ttpd_host, now_ns, 240, 8) \
	X(ttpd_lifter, magic, 0, 4) \
	X(ttpd_lifter, size, 4, 4) \
	X(ttpd_lifter, abi_major, 8, 2) \
	X(ttpd_lifter, abi_minor, 10, 2) \
	X(ttpd_lifter, flags, 12, 4) \
	X(ttpd_lifter, name, 16, 8) \
	X(ttpd_lifter, version, 24, 8) \
	X(ttpd_lifter, description, 32, 8) \
	X(ttpd_lifter, source_kinds, 40, 8) \
	X(ttpd_lifter, rule_kinds, 48, 8) \
	X(ttpd_lifter, config_keys, 56, 8) \
	X(ttpd_lifter, init, 64, 8) \
	X(ttpd_lifter, rule_prepare, 72, 8) \
	X(ttpd_lifter, rule_release, 80, 8) \
	X(ttpd_lifter, handle, 88, 8) \
	X(ttpd_lifter, destroy, 96, 8) \

#endif
