// SPDX-License-Identifier: GPL-2.0-only
/* The agent's rolling latency baseline (basestate.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "baseline.h"
#include "basestate.h"
#include "clock.h"
#include "hist.h"
#include "json.h"
#include "log.h"
#include "names.h"
#include "opts.h"

struct stage_state {
	char netns[VX_NETNS_NAME_MAX];
	char device[16];
	char stage[16];
	struct vx_lat_hist cur;	 /* this tick's readings (each VNI's) summed */
	struct vx_lat_hist last; /* cur at the last tick */
	struct vx_lat_hist win;	 /* this window's samples */
	bool cur_seen;		 /* read this tick */
	bool seen;		 /* read at an earlier tick */
	double w[VX_BASESTATE_WINDOWS][2];
	int n_w, head; /* windows kept; the next slot */
};

struct vx_basestate {
	char dir[4096], path[4096 + 32], tmp[4096 + 40];
	uint64_t window_ns, win_start;
	struct stage_state *st;
	int n;
	uint64_t dropped;
	bool write_failed; /* said once */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

bool vx_basestate_quartile(const double (*windows)[2], int n, double *p50, double *p90)
{
	double a[VX_BASESTATE_WINDOWS], c[VX_BASESTATE_WINDOWS];

	if (n < VX_BASESTATE_MIN_WINDOWS || n > VX_BASESTATE_WINDOWS)
		return false;
	for (int i = 0; i < n; i++) {
		a[i] = windows[i][0];
		c[i] = windows[i][1];
	}
	qsort(a, (size_t)n, sizeof(a[0]), cmp_double);
	qsort(c, (size_t)n, sizeof(c[0]), cmp_double);
	*p50 = a[(n - 1) / 4];
	*p90 = c[(n - 1) / 4];
	return true;
}

static struct stage_state *find(struct vx_basestate *b, const char *netns, const char *device,
				const char *stage, bool add)
{
	struct stage_state *s;

	for (int i = 0; i < b->n; i++)
		if (!strcmp(b->st[i].netns, netns) && !strcmp(b->st[i].device, device) &&
		    !strcmp(b->st[i].stage, stage))
			return &b->st[i];
	if (!add)
		return NULL;
	if (b->n == VX_BASESTATE_KEYS) {
		if (!b->dropped++)
			pr_warn("the latency baseline keeps %d stages: %s/%s's %s and any more "
				"are left out of it",
				VX_BASESTATE_KEYS, netns, device, stage);
		return NULL;
	}
	s = &b->st[b->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->netns, sizeof(s->netns), "%s", netns);
	snprintf(s->device, sizeof(s->device), "%s", device);
	snprintf(s->stage, sizeof(s->stage), "%s", stage);
	return s;
}

static void push(struct stage_state *s, double p50, double p90)
{
	s->w[s->head][0] = p50;
	s->w[s->head][1] = p90;
	s->head = (s->head + 1) % VX_BASESTATE_WINDOWS;
	if (s->n_w < VX_BASESTATE_WINDOWS)
		s->n_w++;
}

/* ---- reading back ------------------------------------------------------- */

static bool window_ok(const json_t *pair, double *p50, double *p90)
{
	const json_t *a = json_array_get(pair, 0), *c = json_array_get(pair, 1);

	if (json_array_size(pair) != 2 || !json_is_number(a) || !json_is_number(c))
		return false;
	*p50 = json_number_value(a);
	*p90 = json_number_value(c);
	return *p50 >= 0 && *p90 >= 0 && *p50 < 1e9 && *p90 < 1e9;
}

/* What an earlier agent kept: each stage's windows, oldest first. -EINVAL
 * when the file is not such a document. */
static int load(struct vx_basestate *b)
{
	json_error_t je;
	json_t *root = json_load_file(b->path, JSON_REJECT_DUPLICATES, &je), *lat, *o;
	const char *type = json_string_value(json_object_get(root, "type"));
	size_t i;

	lat = json_object_get(root, "latency");
	if (!root || !type || strcmp(type, "baseline") || !json_is_array(lat)) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(lat, i, o)
	{
		const char *ns = json_string_value(json_object_get(o, "netns")),
			   *dev = json_string_value(json_object_get(o, "device")),
			   *stage = json_string_value(json_object_get(o, "stage"));
		json_t *ws = json_object_get(o, "windows"), *pair;
		struct stage_state *s;
		double p50, p90;
		size_t k;

		/* A file from before labels ("" for the agent's own namespace). */
		if (ns && !ns[0])
			ns = vx_ns_label_of("");
		if (!ns || !dev || !stage || !json_is_array(ws) ||
		    !(s = find(b, ns, dev, stage, true)))
			continue;
		json_array_foreach(ws, k, pair) if (window_ok(pair, &p50, &p90)) push(s, p50, p90);
	}
	json_decref(root);
	return 0;
}

struct vx_basestate *vx_basestate_open(const char *dir, uint64_t window_ns, char *err,
				       size_t errlen)
{
	struct vx_basestate *b = calloc(1, sizeof(*b));

	if (!b || !(b->st = calloc(VX_BASESTATE_KEYS, sizeof(*b->st)))) {
		snprintf(err, errlen, "no memory for the latency baseline");
		goto fail;
	}
	b->window_ns = window_ns;
	snprintf(b->dir, sizeof(b->dir), "%s", dir);
	snprintf(b->path, sizeof(b->path), "%s/%s", dir, VX_BASESTATE_FILE);
	snprintf(b->tmp, sizeof(b->tmp), "%s.tmp", b->path);
	/* Made when there is a first window to keep, not before. */
	if (access(dir, W_OK) && errno != ENOENT) {
		snprintf(err, errlen, "cannot write to the state directory %s: %s", dir,
			 strerror(errno));
		goto fail;
	}
	if (!access(b->path, F_OK) && load(b)) {
		char bad[4096 + 40];

		snprintf(bad, sizeof(bad), "%s.bad", b->path);
		pr_warn("%s is not a latency baseline vxray wrote; set aside as %s, starting anew",
			b->path, bad);
		rename(b->path, bad);
	}
	return b;
fail:
	if (b)
		free(b->st);
	free(b);
	return NULL;
}

void vx_basestate_see(struct vx_basestate *b, const char *netns, const char *device,
		      const char *stage, const struct vx_lat_hist *cum)
{
	/* Kept, and written, by the namespace's label: diagnose matches it
	 * against its own stages' labels (baseline.c). */
	struct stage_state *s = find(b, vx_ns_label_of(netns), device, stage, true);

	if (!s)
		return;
	if (!s->cur_seen)
		memset(&s->cur, 0, sizeof(s->cur));
	vx_hist_merge(&s->cur, cum);
	s->cur_seen = true;
}

/* What stage @s counted since the last tick goes into its window. The
 * first reading has no tick behind it; one that shrank comes from a
 * datapath loaded again, counting from zero. */
static void take_tick(struct stage_state *s)
{
	struct vx_lat_hist d = s->cur;

	if (!s->cur_seen)
		return;
	if (s->seen && d.count >= s->last.count) {
		d.count -= s->last.count;
		d.sum_ns -= s->last.sum_ns;
		for (int i = 0; i < VX_HIST_SLOTS; i++)
			d.slot[i] = d.slot[i] >= s->last.slot[i] ? d.slot[i] - s->last.slot[i] : 0;
	}
	if (s->seen)
		vx_hist_merge(&s->win, &d);
	s->last = s->cur;
	s->seen = true;
	s->cur_seen = false;
}

/* ---- writing ------------------------------------------------------------- */

static void write_stage(struct jw *w, const struct stage_state *s)
{
	double p50, p90, ws[VX_BASESTATE_WINDOWS][2];
	int first = (s->head - s->n_w + VX_BASESTATE_WINDOWS) % VX_BASESTATE_WINDOWS;

	for (int i = 0; i < s->n_w; i++)
		memcpy(ws[i], s->w[(first + i) % VX_BASESTATE_WINDOWS], sizeof(ws[i]));
	jw_obj_open(w, NULL);
	jw_str(w, "netns", s->netns);
	jw_str(w, "device", s->device);
	jw_str(w, "stage", s->stage);
	if (vx_basestate_quartile((const double(*)[2])ws, s->n_w, &p50, &p90)) {
		jw_double(w, "p50_us", p50);
		jw_double(w, "p90_us", p90);
	}
	jw_arr_open(w, "windows");
	for (int i = 0; i < s->n_w; i++) {
		jw_arr_open(w, NULL);
		jw_double(w, NULL, ws[i][0]);
		jw_double(w, NULL, ws[i][1]);
		jw_arr_close(w);
	}
	jw_arr_close(w);
	jw_obj_close(w);
}

/* The whole state to a temporary file, synced, then renamed over the old:
 * a reader sees the old file or the new one, never half of one. */
static int save(struct vx_basestate *b)
{
	int fd, err = 0;
	struct jw w;
	FILE *f;

	if (mkdir(b->dir, 0755) && errno != EEXIST)
		return -errno;
	fd = open(b->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	jw_init(&w, f);
	jw_record(&w, "baseline");
	jw_str(&w, "written_by", "vxray agent");
	jw_double(&w, "window_s", (double)b->window_ns / 1e9);
	jw_arr_open(&w, "latency");
	for (int i = 0; i < b->n; i++)
		if (b->st[i].n_w)
			write_stage(&w, &b->st[i]);
	jw_arr_close(&w);
	jw_obj_close(&w);
	jw_end_line(&w);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(b->tmp, b->path))
		err = -errno;
	if (err)
		unlink(b->tmp);
	return err;
}

int vx_basestate_tick(struct vx_basestate *b, uint64_t now_ns)
{
	bool closed = false;
	int err;

	for (int i = 0; i < b->n; i++)
		take_tick(&b->st[i]);
	if (!b->win_start) {
		b->win_start = now_ns;
		return 0;
	}
	if (now_ns - b->win_start < b->window_ns)
		return 0;
	b->win_start = now_ns;
	for (int i = 0; i < b->n; i++) {
		struct stage_state *s = &b->st[i];

		if (s->win.count >= VX_BASESTATE_MIN_SAMPLES) {
			push(s, (double)vx_hist_quantile(&s->win, 0.5) / 1e3,
			     (double)vx_hist_quantile(&s->win, 0.9) / 1e3);
			closed = true;
		}
		memset(&s->win, 0, sizeof(s->win));
	}
	if (!closed)
		return 0;
	err = save(b);
	if (err && !b->write_failed)
		pr_warn("cannot write the latency baseline %s: %s (diagnose goes without it)",
			b->path, vx_strerror(err));
	b->write_failed = err != 0;
	return err;
}

/* ---- diagnose's side ------------------------------------------------------ */

struct vx_baseline *vx_basestate_read(const char *dir, char *from, size_t fromlen)
{
	char path[4200], err[512], age[32];
	struct vx_baseline *base;
	struct timespec now;
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, VX_BASESTATE_FILE);
	if (stat(path, &st))
		return NULL;
	base = vx_baseline_load(path, err, sizeof(err));
	if (!base) {
		pr_warn("%s: going without the agent's latency baseline", err);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	vx_fmt_duration(now.tv_sec > st.st_mtim.tv_sec ?
				(uint64_t)(now.tv_sec - st.st_mtim.tv_sec) * NSEC_PER_SEC :
				0,
			age, sizeof(age));
	snprintf(from, fromlen, "the agent's baseline %s, written %s ago", path, age);
	pr_info("latency is compared with the agent's baseline %s, written %s ago", path, age);
	return base;
}

uint64_t vx_basestate_dropped(const struct vx_basestate *b)
{
	return b ? b->dropped : 0;
}

void vx_basestate_close(struct vx_basestate *b)
{
	if (!b)
		return;
	free(b->st);
	free(b);
}
