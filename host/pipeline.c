/*
 * Events -> plugins -> tags -> store, and the JSONL replay driver.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "pipeline.h"
#include "store.h"
#include "xmalloc.h"

static struct log_ratelimit bad_line_log = LOG_RATELIMIT_INIT(10, 20);

void
pipeline_init(struct pipeline *pl, struct registry *reg, struct store *store)
{
	memset(pl, 0, sizeof *pl);
	pl->reg = reg;
	pl->store = store;
	pl->ts.attack_release = "v15.1";
	pl->batch_size = 1000;
	pl->max_line_bytes = 1048576;
	tag_list_init(&pl->batch);
	event_list_init(&pl->events);
}

void
pipeline_free(struct pipeline *pl)
{
	size_t i;

	if (pl->writer != NULL)
		pipeline_finish(pl);
	tag_list_free(&pl->batch);
	free(pl->units.v);
	memset(&pl->units, 0, sizeof pl->units);
	event_list_free(&pl->events);
	for (i = 0; i < pl->nunrouted_kinds; i++)
		free(pl->unrouted_kinds[i]);
	free(pl->unrouted_kinds);
	pl->unrouted_kinds = NULL;
	pl->nunrouted_kinds = 0;
}

uint64_t
pipeline_errors(const struct pipeline *pl)
{
	return pl->st.bad_lines + pl->st.plugin_errors + pl->st.store_errors;
}

void
pipeline_summary(const struct pipeline *pl, FILE *fp)
{
	fprintf(fp, "events=%llu tags=%llu inserted=%llu errors=%llu\n",
	    (unsigned long long)pl->st.events,
	    (unsigned long long)pl->st.tags,
	    (unsigned long long)pl->st.inserted,
	    (unsigned long long)pipeline_errors(pl));
}

/* One JSON line per inserted tag, for --tags-out.  The evidence is
 * already JSON text; it is spliced in, not parsed again. */
static void
write_tag_json(FILE *fp, const struct tag *t)
{
	char *line = tag_json_line(t, 1);

	if (line != NULL)
		fputs(line, fp);
	free(line);
}

/* Write one batch in one transaction; on success count and empty it.
 * On failure the batch is kept (never dropped silently).  With a commit
 * callback, units are reported (ok or not) and emptied as well. */
static int
write_batch(struct store *store, FILE *tags_out, struct tag_list *batch,
    struct unit_list *units, pipeline_commit_fn on_commit, void *commit_ud,
    uint64_t *inserted_total)
{
	unsigned char *inserted = NULL;
	long n = 0;
	size_t i;
	int attempt;

	if (batch->n == 0 && (units == NULL || units->n == 0))
		return 0;
	if (tags_out != NULL || on_commit != NULL)
		inserted = xcalloc(batch->n > 0 ? batch->n : 1, 1);
	/* a busy or briefly failing database gets a second chance */
	for (attempt = 0; attempt < 2 && batch->n > 0; attempt++) {
		if (store_begin(store) != 0)
			continue;
		n = store_insert_tags(store, batch->v, batch->n, inserted);
		if (n < 0) {
			store_rollback(store);
			continue;
		}
		if (store_commit(store) != 0) {
			store_rollback(store);
			n = -1;
			continue;
		}
		break;
	}
	if (batch->n > 0 && (attempt == 2 || n < 0))
		goto fail;
	*inserted_total += (uint64_t)n;
	if (tags_out != NULL)
		for (i = 0; i < batch->n; i++)
			if (inserted[i])
				write_tag_json(tags_out, &batch->v[i]);
	if (on_commit != NULL) {
		on_commit(commit_ud, 1, batch, inserted, units->v, units->n);
		units->n = 0;
	}
	free(inserted);
	tag_list_truncate(batch, 0);
	return 0;
fail:
	log_err("store %s: writing %zu tags failed: %s", store_path(store),
	    batch->n, store_error(store));
	if (on_commit != NULL) {
		memset(inserted, 0, batch->n);
		on_commit(commit_ud, 0, batch, inserted, units->v, units->n);
		units->n = 0;
		tag_list_truncate(batch, 0);
	}
	free(inserted);
	return -1;
}

/* The writer thread and the one batch it may hold. */
struct writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct store *store;
	FILE *tags_out;
	struct tag_list batch;  /* handed over, being written */
	struct unit_list units; /* its units (bus mode) */
	pipeline_commit_fn on_commit;
	void *commit_ud;
	int busy;               /* batch holds work */
	int stop;
	int failed;             /* a write failed: refuse further batches */
	uint64_t inserted;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->busy && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->busy && w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		/* the batch is ours while busy: no lock needed to write it */
		if (write_batch(w->store, w->tags_out, &w->batch, &w->units,
		    w->on_commit, w->commit_ud, &w->inserted) != 0) {
			pthread_mutex_lock(&w->lock);
			/* with a callback the failure was reported to it */
			if (w->on_commit == NULL)
				w->failed = 1;
		} else
			pthread_mutex_lock(&w->lock);
		w->busy = 0;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
pipeline_start_writer(struct pipeline *pl)
{
	struct writer *w;

	if (pl->store == NULL || pl->writer != NULL)
		return 0;
	w = xcalloc(1, sizeof *w);
	w->store = pl->store;
	w->tags_out = pl->tags_out;
	w->on_commit = pl->on_commit;
	w->commit_ud = pl->commit_ud;
	tag_list_init(&w->batch);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		log_err("cannot start the store writer thread");
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
		return -1;
	}
	/* so top -H and perf tell the writer from the tagging thread */
	pthread_setname_np(w->thread, "ttpd-writer");
	pl->writer = w;
	return 0;
}

/* Wait until the writer is idle; returns its failure flag. */
static int
writer_wait_idle(struct writer *w)
{
	int failed;

	pthread_mutex_lock(&w->lock);
	while (w->busy)
		pthread_cond_wait(&w->cond, &w->lock);
	failed = w->failed;
	pthread_mutex_unlock(&w->lock);
	return failed;
}

int
pipeline_flush(struct pipeline *pl)
{
	struct writer *w = pl->writer;
	struct tag_list tmp;
	struct unit_list utmp;

	if (pl->batch.n == 0 && pl->units.n == 0)
		return 0;
	if (pl->store == NULL && pl->on_commit == NULL) {
		tag_list_truncate(&pl->batch, 0);
		return 0;
	}
	if (pl->store == NULL) {
		/* dry run with a callback: nothing is inserted */
		unsigned char *none = xcalloc(pl->batch.n + 1, 1);

		pl->on_commit(pl->commit_ud, 1, &pl->batch, none, pl->units.v,
		    pl->units.n);
		free(none);
		pl->units.n = 0;
		tag_list_truncate(&pl->batch, 0);
		return 0;
	}
	if (w == NULL) {
		if (write_batch(pl->store, pl->tags_out, &pl->batch,
		    &pl->units, pl->on_commit, pl->commit_ud,
		    &pl->st.inserted) != 0) {
			pl->st.store_errors++;
			return -1;
		}
		return 0;
	}
	if (writer_wait_idle(w)) {
		pl->st.store_errors++;
		return -1;
	}
	/* swap: the writer takes the full batch, we keep its empty one */
	pthread_mutex_lock(&w->lock);
	tmp = w->batch;
	w->batch = pl->batch;
	pl->batch = tmp;
	utmp = w->units;
	w->units = pl->units;
	pl->units = utmp;
	w->busy = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int
pipeline_finish(struct pipeline *pl)
{
	struct writer *w = pl->writer;
	int rc = pipeline_flush(pl);

	if (w == NULL)
		return rc;
	if (writer_wait_idle(w) && rc == 0) {
		pl->st.store_errors++;
		rc = -1;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pl->st.inserted += w->inserted;
	/* a failed batch is still in w->batch: it was reported, not lost
	 * silently; free it with the writer */
	tag_list_free(&w->batch);
	free(w->units.v);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
	pl->writer = NULL;
	return rc;
}

static void
note_unrouted(struct pipeline *pl, const char *kind)
{
	size_t i;

	pl->st.unrouted++;
	for (i = 0; i < pl->nunrouted_kinds; i++)
		if (strcmp(pl->unrouted_kinds[i], kind) == 0)
			return;
	pl->unrouted_kinds = xreallocarray(pl->unrouted_kinds,
	    pl->nunrouted_kinds + 1, sizeof *pl->unrouted_kinds);
	pl->unrouted_kinds[pl->nunrouted_kinds++] = xstrdup(kind);
	/* once per kind: a warning for a kind ttpd knows, else info */
	log_msg(source_kind_known(kind) ? TTPD_LOG_WARNING : TTPD_LOG_INFO,
	    "no loaded plugin handles source kind '%s'; such events are not "
	    "tagged", kind);
}

int
pipeline_event(struct pipeline *pl, const ttpd_event *ev)
{
	struct plugin *const *ps;
	size_t n, i, before = pl->batch.n;
	int64_t now = tag_now_ns();

	pl->st.events++;
	ps = registry_plugins_for(pl->reg, ev->source_kind, &n);
	if (n == 0) {
		note_unrouted(pl, ev->source_kind);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (ps[i]->disabled)
			continue;
		/* each plugin's failure costs only its own tags */
		if (hostapi_run(ps[i], ev, &pl->ts, now, &pl->batch) < 0)
			pl->st.plugin_errors++;
	}
	pl->st.tags += pl->batch.n - before;
	/* with units, flushes happen at unit boundaries (pipeline_mark) */
	if (pl->on_commit == NULL && pl->batch.n >= pl->batch_size)
		return pipeline_flush(pl);
	return 0;
}

int
pipeline_mark(struct pipeline *pl, void *cookie)
{
	struct unit_list *u = &pl->units;

	if (u->n == u->cap) {
		u->cap = u->cap == 0 ? 64 : u->cap * 2;
		u->v = xreallocarray(u->v, u->cap, sizeof *u->v);
	}
	u->v[u->n].end = pl->batch.n;
	u->v[u->n].cookie = cookie;
	u->n++;
	if (pl->batch.n >= pl->batch_size)
		return pipeline_flush(pl);
	return 0;
}

int
pipeline_writer_idle(struct pipeline *pl)
{
	struct writer *w = pl->writer;
	int idle;

	if (w == NULL)
		return 1;
	pthread_mutex_lock(&w->lock);
	idle = !w->busy;
	pthread_mutex_unlock(&w->lock);
	return idle;
}

size_t
pipeline_pending_units(const struct pipeline *pl)
{
	return pl->units.n;
}

int
pipeline_line(struct pipeline *pl, const ttpd_value *line, const char *name,
    unsigned long lineno)
{
	char err[256];
	size_t i;
	int rc = 0;

	event_list_clear(&pl->events);
	switch (event_build(line, &pl->anchors, &pl->events, err, sizeof err)) {
	case EVENT_OK:
		break;
	case EVENT_DROPPED:
		pl->st.dropped++;
		log_debug("%s:%lu: %s", name, lineno, err);
		return 0;
	case EVENT_IGNORED:
		pl->st.ignored++;
		log_debug("%s:%lu: %s", name, lineno, err);
		return 0;
	case EVENT_BAD:
		pl->st.bad_lines++;
		log_limited(&bad_line_log, TTPD_LOG_WARNING, "%s:%lu: %s", name,
		    lineno, err);
		return 0;
	}
	for (i = 0; i < pl->events.n && rc == 0; i++)
		rc = pipeline_event(pl, &pl->events.v[i].pub);
	event_list_clear(&pl->events);
	return rc;
}

/*
 * A buffered line reader with a length cap: lines are found with memchr
 * in a buffer refilled by fread, never read byte by byte, and an
 * over-long line is skipped without being held in memory.
 */
struct line_reader {
	FILE *fp;
	char *buf;
	size_t cap;   /* allocated: max line + 1, at least 64 KiB */
	size_t start; /* first unread byte */
	size_t end;   /* one past the last byte read */
	int eof;
};

static void
line_reader_init(struct line_reader *lr, FILE *fp, size_t max)
{
	lr->fp = fp;
	lr->cap = max + 1 > 65536 ? max + 1 : 65536;
	lr->buf = xmalloc(lr->cap);
	lr->start = lr->end = 0;
	lr->eof = 0;
}

/* Read more after moving the unread bytes to the front; 0 at EOF. */
static int
line_reader_fill(struct line_reader *lr)
{
	size_t n;

	if (lr->eof)
		return 0;
	if (lr->start > 0) {
		memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
		lr->end -= lr->start;
		lr->start = 0;
	}
	n = fread(lr->buf + lr->end, 1, lr->cap - 1 - lr->end, lr->fp);
	lr->end += n;
	if (n == 0)
		lr->eof = 1;
	return n > 0;
}

/*
 * Next line (NUL-terminated in place, without its newline) in *line.
 * Returns its length, -1 at EOF, or -2 for a line longer than max (which
 * is consumed).
 */
static long
line_reader_next(struct line_reader *lr, size_t max, char **line)
{
	size_t scanned = 0;
	int overlong = 0;

	for (;;) {
		char *nl = memchr(lr->buf + lr->start + scanned, '\n',
		    lr->end - lr->start - scanned);

		if (nl != NULL) {
			size_t len = (size_t)(nl - (lr->buf + lr->start));

			*nl = '\0';
			*line = lr->buf + lr->start;
			lr->start += len + 1;
			if (overlong || len > max)
				return -2;
			return (long)len;
		}
		if (lr->end - lr->start > max) {
			/* too long: drop what we have, keep looking for
			 * the newline that ends it */
			overlong = 1;
			lr->start = lr->end = 0;
			scanned = 0;
		} else
			scanned = lr->end - lr->start;
		if (!line_reader_fill(lr)) {
			size_t len = lr->end - lr->start;

			if (len == 0 && !overlong)
				return -1;
			/* last line without a newline */
			lr->buf[lr->end] = '\0';
			*line = lr->buf + lr->start;
			lr->start = lr->end;
			return overlong ? -2 : (long)len;
		}
	}
}

static int
blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int
pipeline_replay(struct pipeline *pl, FILE *fp, const char *name)
{
	struct line_reader lr;
	char err[256], *buf;
	unsigned long lineno = 0;
	long n;
	int rc = 0;

	line_reader_init(&lr, fp, pl->max_line_bytes);
	while (rc == 0 &&
	    (n = line_reader_next(&lr, pl->max_line_bytes, &buf)) != -1) {
		ttpd_value *line;

		lineno++;
		if (n == -2) {
			pl->st.lines++;
			pl->st.bad_lines++;
			log_limited(&bad_line_log, TTPD_LOG_WARNING,
			    "%s:%lu: line longer than %zu bytes (input."
			    "max_event_bytes); skipped", name, lineno,
			    pl->max_line_bytes);
			continue;
		}
		if (blank(buf, (size_t)n))
			continue;
		pl->st.lines++;
		line = jv_parse(buf, (size_t)n, err, sizeof err);
		if (line == NULL) {
			pl->st.bad_lines++;
			log_limited(&bad_line_log, TTPD_LOG_WARNING,
			    "%s:%lu: invalid JSON at %s", name, lineno, err);
			continue;
		}
		rc = pipeline_line(pl, line, name, lineno);
		jv_decref(line);
	}
	if (ferror(fp)) {
		log_err("%s: read error after line %lu", name, lineno);
		rc = -1;
	}
	free(lr.buf);
	if (pipeline_finish(pl) != 0)
		rc = -1;
	return rc;
}
