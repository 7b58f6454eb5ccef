// SPDX-License-Identifier: GPL-2.0-only
/* --baseline FILE read with jansson (baseline.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "baseline.h"
#include "names.h"

struct vx_baseline {
	json_t *root;
	json_t *latency; /* borrowed from root */
};

/* The largest baseline read: a diagnosis is a few KiB. */
#define BASELINE_MAX (16u << 20)

/* A diagnosis, or the baseline `vxray agent` keeps (basestate.h): both
 * carry a "latency" array of the same objects. */
static bool is_diagnosis(const json_t *doc)
{
	const char *type = json_string_value(json_object_get(doc, "type"));

	return type && (!strcmp(type, "diagnosis") || !strcmp(type, "baseline"));
}

/* jansson quotes the bytes near the error, which may be control
 * characters: the sentence stays on one line. @at is where the failing
 * document began, so that line and column count from the file's start. */
static void not_json(const char *name, const char *text, size_t at, const json_error_t *je,
		     char *err, size_t errlen)
{
	int line = je->line, col = je->column;
	size_t bol = 0;

	for (size_t k = 0; k < at; k++) {
		if (text[k] == '\n') {
			line++;
			bol = k + 1;
		}
	}
	if (je->line == 1)
		col += (int)(at - bol);
	snprintf(err, errlen,
		 "'%s' is not the output of `vxray diagnose -j`: not JSON (line %d, column %d: %s)",
		 name, line, col, je->text);
	for (char *c = err; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
}

struct vx_baseline *vx_baseline_parse(const char *text, size_t len, const char *name, char *err,
				      size_t errlen)
{
	json_t *diag = NULL, *lat;
	struct vx_baseline *b;
	json_error_t je;
	size_t off = 0;

	/* `vxray diagnose -j 2>&1 >FILE` and its like keep vxray's own log
	 * lines beside the diagnosis: a sequence of documents, of which the
	 * last diagnosis counts. */
	for (;;) {
		json_t *doc;

		while (off < len && text[off] && strchr(" \t\r\n", text[off]))
			off++;
		/* Empty text goes to jansson once, which says what it expected. */
		if (off == len && len)
			break;
		doc = json_loadb(text + off, len - off,
				 JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
		if (!doc) {
			not_json(name, text, off, &je, err, errlen);
			json_decref(diag);
			return NULL;
		}
		off += je.position;
		if (is_diagnosis(doc)) {
			json_decref(diag);
			diag = doc;
		} else {
			json_decref(doc);
		}
	}
	lat = json_object_get(diag, "latency");
	if (!diag || !json_is_array(lat)) {
		snprintf(err, errlen, "'%s' is not the output of `vxray diagnose -j`: %s", name,
			 diag ? "no latency to compare against" :
				"no \"type\":\"diagnosis\" document");
		json_decref(diag);
		return NULL;
	}
	b = malloc(sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory reading the baseline '%s'", name);
		json_decref(diag);
		return NULL;
	}
	b->root = diag;
	b->latency = lat;
	return b;
}

struct vx_baseline *vx_baseline_load(const char *path, char *err, size_t errlen)
{
	struct vx_baseline *b = NULL;
	FILE *f = fopen(path, "re");
	size_t n = 0, cap = 0;
	char *text = NULL;

	if (!f) {
		snprintf(err, errlen, "cannot read the baseline '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* Grown as read: a file or a pipe, a few KiB in practice. */
	while (!feof(f) && !ferror(f) && n <= BASELINE_MAX) {
		if (n == cap) {
			char *t = realloc(text, (cap = cap ? cap * 2 : 16384) + 1);

			if (!t) {
				snprintf(err, errlen, "cannot read the baseline '%s': %s", path,
					 strerror(errno));
				goto out;
			}
			text = t;
		}
		n += fread(text + n, 1, cap - n, f);
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read the baseline '%s': %s", path, strerror(errno));
		goto out;
	}
	if (n > BASELINE_MAX) {
		snprintf(err, errlen,
			 "'%s' is not the output of `vxray diagnose -j`: larger than %u MiB", path,
			 BASELINE_MAX >> 20);
		goto out;
	}
	b = vx_baseline_parse(text ? text : "", n, path, err, errlen);
out:
	free(text);
	fclose(f);
	return b;
}

void vx_baseline_free(struct vx_baseline *b)
{
	if (!b)
		return;
	json_decref(b->root);
	free(b);
}

static bool member_is(const json_t *obj, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v && !strcmp(v, want);
}

bool vx_baseline_lookup(const struct vx_baseline *b, const char *netns, const char *device,
			const char *stage, double *p50, double *p90)
{
	size_t i;
	json_t *o;

	json_array_foreach(b->latency, i, o)
	{
		json_t *a = json_object_get(o, "p50_us"), *c = json_object_get(o, "p90_us");

		/* By label; a file from before labels wrote "" for the
		 * namespace vxray ran in, which an option names "" too. */
		if ((!member_is(o, "netns", vx_ns_label_of(netns)) &&
		     !member_is(o, "netns", netns)) ||
		    !member_is(o, "device", device) || !member_is(o, "stage", stage) ||
		    !json_is_number(a) || !json_is_number(c))
			continue;
		/* No NaN or infinity reaches here: jansson refuses both, and
		 * an exponent that overflows. */
		if (json_number_value(a) <= 0 || json_number_value(c) < 0)
			continue;
		*p50 = json_number_value(a);
		*p90 = json_number_value(c);
		return true;
	}
	return false;
}
