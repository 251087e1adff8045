/*
 * The tagging pipeline without a bus: events -> plugins -> tags -> store,
 * in batches of one transaction each, and the JSONL replay driver.
 */
#ifndef TTPD_PIPELINE_H
#define TTPD_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "event.h"
#include "hostapi.h"
#include "plugin.h"
#include "tag.h"

struct store;

struct pipeline_stats {
	uint64_t lines;       /* input lines read (blank lines excluded) */
	uint64_t bad_lines;   /* malformed lines (counted in errors) */
	uint64_t events;      /* tagger events dispatched */
	uint64_t dropped;     /* events without an anchor */
	uint64_t ignored;     /* valid lines with nothing to tag */
	uint64_t unrouted;    /* events of a kind no plugin handles */
	uint64_t tags;        /* tags produced by plugins */
	uint64_t inserted;    /* rows really written */
	uint64_t plugin_errors; /* handle() errors (counted in errors) */
	uint64_t store_errors;  /* failed batches (counted in errors) */
};

struct writer;

/*
 * Units (bus mode): the tags of one upstream message are one unit, so
 * that after the commit each message learns which of its tags were
 * really inserted (ttp.tagged) and can be acknowledged.  Unit i holds
 * the batch's tags [units[i-1].end, units[i].end).
 */
struct pipeline_unit {
	size_t end;
	void *cookie;
};

struct unit_list {
	struct pipeline_unit *v;
	size_t n, cap;
};

/*
 * Called once per written batch, after its transaction (ok=1: committed;
 * ok=0: the write failed and nothing of it is stored), on the writer
 * thread when there is one.  inserted[i] says whether tag i became a new
 * row.  The callback owns the cookies.
 */
typedef void (*pipeline_commit_fn)(void *ud, int ok,
    const struct tag_list *batch, const unsigned char *inserted,
    const struct pipeline_unit *units, size_t nunits);

struct pipeline {
	struct registry *reg;
	struct store *store;          /* NULL: tag but store nothing */
	struct writer *writer;        /* set by pipeline_start_writer() */
	struct tag_settings ts;
	struct anchor_policy anchors;
	size_t batch_size;            /* tags per transaction */
	size_t max_line_bytes;        /* longer input lines are rejected */
	/* optional: every inserted tag is also written here as JSONL */
	FILE *tags_out;
	struct tag_list batch;
	struct event_list events;
	struct pipeline_stats st;
	/* bus mode: units and the commit callback (see above); with a
	 * callback, a failed write is reported to it and the pipeline goes
	 * on instead of refusing further batches */
	pipeline_commit_fn on_commit;
	void *commit_ud;
	struct unit_list units;
	/* kinds already reported as unrouted (logged once each) */
	char **unrouted_kinds;
	size_t nunrouted_kinds;
};

void pipeline_init(struct pipeline *pl, struct registry *reg,
    struct store *store);
void pipeline_free(struct pipeline *pl);

/* Run one event through every plugin of its kind; tags go to the batch,
 * which is flushed when full. Returns 0, or -1 if a flush failed. */
int pipeline_event(struct pipeline *pl, const ttpd_event *ev);

/* Run one decoded input line (envelope or tagger event); name:lineno
 * only appear in messages.  Returns 0 for a handled line (including
 * dropped/ignored/bad ones, which are counted), -1 when a flush failed. */
int pipeline_line(struct pipeline *pl, const ttpd_value *line,
    const char *name, unsigned long lineno);

/*
 * End the current unit (bus mode): the tags added since the previous
 * mark belong to cookie.  Flushes when the batch is full.  Returns what
 * pipeline_flush() returns, or 0.
 */
int pipeline_mark(struct pipeline *pl, void *cookie);

/* Units waiting in the batch being built (not yet handed over). */
size_t pipeline_pending_units(const struct pipeline *pl);

/* 1 when no batch is being written (a flush would not wait). */
int pipeline_writer_idle(struct pipeline *pl);

/*
 * Write the batch in one transaction.  Without a writer thread this
 * happens here; with one, the batch is handed over and written while
 * tagging goes on (a failure is reported by the next flush or by
 * pipeline_finish()).  Returns 0 or -1.
 */
int pipeline_flush(struct pipeline *pl);

/*
 * Write batches on a thread of their own: tagging and SQLite then run on
 * different cores.  The writer owns pl->store from now on: nothing else
 * may use that connection until pipeline_finish().  Returns 0 or -1.
 */
int pipeline_start_writer(struct pipeline *pl);

/* Flush what is left and wait until everything handed over is written
 * (and stop the writer thread).  Returns 0, or -1 if any write failed. */
int pipeline_finish(struct pipeline *pl);

/*
 * Replay JSONL from fp (`name` is used in messages; line numbers are
 * 1-based): stream it line by line, never holding more than one line and
 * two batches (one being tagged, one being written), then finish.
 * Returns 0, or -1 when the store failed (the summary still reflects what
 * was done).
 */
int pipeline_replay(struct pipeline *pl, FILE *fp, const char *name);

/* The replay summary line "events=N tags=M inserted=K errors=E". */
void pipeline_summary(const struct pipeline *pl, FILE *fp);

/* Sum of everything counted as an error. */
uint64_t pipeline_errors(const struct pipeline *pl);

#endif
