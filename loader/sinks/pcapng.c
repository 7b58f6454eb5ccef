// SPDX-License-Identifier: GPL-2.0-only
/* The pcapng writer; see pcapng.h. Each block is assembled in one buffer
 * and written with one fwrite, so a block is never half there unless the
 * disk filled, and the first write error is kept and returned. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

struct iface {
	char *name;
	uint16_t linktype;
	uint32_t snaplen;
};

struct vx_pcapng {
	FILE *f;
	int err; /* first write error, sticky */
	struct iface *ifs;
	uint32_t n_ifs, cap_ifs;
	uint64_t packets;
	uint8_t *buf; /* one block */
	size_t cap_buf, len;
};

/* ---- block assembly ------------------------------------------------------- */

static int reserve(struct vx_pcapng *w, size_t n)
{
	uint8_t *b;
	size_t cap;

	if (w->len + n <= w->cap_buf)
		return 0;
	cap = w->cap_buf ? w->cap_buf : 1024;
	while (cap < w->len + n)
		cap *= 2;
	b = realloc(w->buf, cap);
	if (!b)
		return -ENOMEM;
	w->buf = b;
	w->cap_buf = cap;
	return 0;
}

static void put(struct vx_pcapng *w, const void *p, size_t n)
{
	if (!n) /* an empty comment or frame may come with p == NULL */
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put16(struct vx_pcapng *w, uint16_t v)
{
	put(w, &v, sizeof(v));
}
static void put32(struct vx_pcapng *w, uint32_t v)
{
	put(w, &v, sizeof(v));
}

static void pad4(struct vx_pcapng *w)
{
	static const uint8_t zero[3];

	put(w, zero, (4 - w->len % 4) % 4);
}

/* How much of @s fits an option: at most VX_PCAPNG_MAX_OPT bytes, cut
 * before a UTF-8 continuation byte so the value stays valid text. */
static size_t opt_len(const char *s)
{
	size_t n = strnlen(s, VX_PCAPNG_MAX_OPT + 1);

	if (n <= VX_PCAPNG_MAX_OPT)
		return n;
	n = VX_PCAPNG_MAX_OPT;
	while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static size_t opt_size(size_t n)
{
	return 4 + ((n + 3) & ~(size_t)3);
}

static void put_opt(struct vx_pcapng *w, uint16_t code, const void *v, size_t n)
{
	put16(w, code);
	put16(w, (uint16_t)n);
	put(w, v, n);
	pad4(w);
}

/* Start a block: type and a total length patched by end_block(). */
static void begin_block(struct vx_pcapng *w, uint32_t type)
{
	w->len = 0;
	put32(w, type);
	put32(w, 0);
}

static int end_block(struct vx_pcapng *w)
{
	uint32_t total = (uint32_t)w->len + 4;

	memcpy(w->buf + 4, &total, 4);
	put32(w, total);
	if (w->err)
		return w->err;
	errno = 0;
	if (fwrite(w->buf, 1, w->len, w->f) != w->len)
		w->err = errno ? -errno : -EIO;
	return w->err;
}

/* ---- blocks ---------------------------------------------------------------- */

int vx_pcapng_open(struct vx_pcapng **out, FILE *f, const char *appl)
{
	struct vx_pcapng *w = calloc(1, sizeof(*w));
	size_t an = appl ? opt_len(appl) : 0;
	int64_t section_len = -1; /* not known: the file grows */
	int err;

	*out = NULL;
	if (!w || !f) {
		free(w);
		return !f ? -EINVAL : -ENOMEM;
	}
	w->f = f;
	if ((err = reserve(w, 28 + opt_size(an) + 4))) {
		free(w);
		return err;
	}
	begin_block(w, VX_PCAPNG_SHB);
	put32(w, VX_PCAPNG_BYTE_ORDER_MAGIC);
	put16(w, 1); /* major */
	put16(w, 0); /* minor */
	put(w, &section_len, sizeof(section_len));
	if (an) {
		put_opt(w, VX_PCAPNG_OPT_SHB_USERAPPL, appl, an);
		put_opt(w, VX_PCAPNG_OPT_END, NULL, 0);
	}
	if ((err = end_block(w))) {
		free(w->buf);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int vx_pcapng_create(struct vx_pcapng **out, const char *path, const char *appl, char *err,
		     size_t errlen)
{
	FILE *f = fopen(path, "wb");
	int ret;

	*out = NULL;
	if (!f) {
		ret = -errno;
		snprintf(err, errlen,
			 "cannot write the capture file '%s': %s; give --pcap a path "
			 "in a directory vxray can write to",
			 path, strerror(-ret));
		return ret;
	}
	ret = vx_pcapng_open(out, f, appl);
	if (ret) {
		fclose(f);
		snprintf(err, errlen, "cannot write the capture file '%s': %s", path,
			 strerror(-ret));
	}
	return ret;
}

int vx_pcapng_iface(struct vx_pcapng *w, const char *name, uint16_t linktype, uint32_t snaplen)
{
	static const uint8_t tsresol = 9; /* 10^-9 s */
	size_t nn;
	int err;

	if (!name)
		return -EINVAL;
	if (!snaplen || snaplen > VX_PCAPNG_MAX_SNAPLEN)
		snaplen = VX_PCAPNG_MAX_SNAPLEN;
	nn = opt_len(name);
	/* Names are kept as written, cut to an option's size. */
	for (uint32_t i = 0; i < w->n_ifs; i++)
		if (w->ifs[i].linktype == linktype && strlen(w->ifs[i].name) == nn &&
		    !memcmp(w->ifs[i].name, name, nn))
			return (int)i;
	if (w->err)
		return w->err;
	if (w->n_ifs >= VX_PCAPNG_MAX_IFACES)
		return -ENOSPC;
	if (w->n_ifs == w->cap_ifs) {
		uint32_t cap = w->cap_ifs ? w->cap_ifs * 2 : 16;
		struct iface *ifs = realloc(w->ifs, cap * sizeof(*ifs));

		if (!ifs)
			return -ENOMEM;
		w->ifs = ifs;
		w->cap_ifs = cap;
	}
	if ((err = reserve(w, 20 + opt_size(nn) + opt_size(1) + 4 + 4)))
		return err;
	w->ifs[w->n_ifs].name = strndup(name, nn);
	if (!w->ifs[w->n_ifs].name)
		return -ENOMEM;
	w->ifs[w->n_ifs].linktype = linktype;
	w->ifs[w->n_ifs].snaplen = snaplen;

	begin_block(w, VX_PCAPNG_IDB);
	put16(w, linktype);
	put16(w, 0); /* reserved */
	put32(w, snaplen);
	put_opt(w, VX_PCAPNG_OPT_IF_NAME, name, nn);
	put_opt(w, VX_PCAPNG_OPT_IF_TSRESOL, &tsresol, 1);
	put_opt(w, VX_PCAPNG_OPT_END, NULL, 0);
	if ((err = end_block(w))) {
		free(w->ifs[w->n_ifs].name);
		return err;
	}
	return (int)w->n_ifs++;
}

int vx_pcapng_packet(struct vx_pcapng *w, uint32_t iface, uint64_t ts_ns, const void *data,
		     uint32_t caplen, uint32_t origlen, const char *comment)
{
	size_t cn = comment ? opt_len(comment) : 0;
	int err;

	if (iface >= w->n_ifs || (caplen && !data))
		return -EINVAL;
	if (w->err)
		return w->err;
	/* Clamp before @data is read: the caller vouches for no more. */
	if (caplen > w->ifs[iface].snaplen)
		caplen = w->ifs[iface].snaplen;
	if (origlen < caplen)
		origlen = caplen;
	if ((err = reserve(w, 28 + ((size_t)caplen + 3) + opt_size(cn) + 4 + 4)))
		return err;
	begin_block(w, VX_PCAPNG_EPB);
	put32(w, iface);
	put32(w, (uint32_t)(ts_ns >> 32));
	put32(w, (uint32_t)ts_ns);
	put32(w, caplen);
	put32(w, origlen);
	if (caplen)
		put(w, data, caplen);
	pad4(w);
	if (cn) {
		put_opt(w, VX_PCAPNG_OPT_COMMENT, comment, cn);
		put_opt(w, VX_PCAPNG_OPT_END, NULL, 0);
	}
	if ((err = end_block(w)))
		return err;
	w->packets++;
	return 0;
}

int vx_pcapng_flush(struct vx_pcapng *w)
{
	if (!w->err && fflush(w->f))
		w->err = errno ? -errno : -EIO;
	return w->err;
}

uint64_t vx_pcapng_packets(const struct vx_pcapng *w)
{
	return w ? w->packets : 0;
}

int vx_pcapng_close(struct vx_pcapng *w)
{
	int err;

	if (!w)
		return 0;
	err = vx_pcapng_flush(w);
	if (fclose(w->f) && !err)
		err = -errno;
	for (uint32_t i = 0; i < w->n_ifs; i++)
		free(w->ifs[i].name);
	free(w->ifs);
	free(w->buf);
	free(w);
	return err;
}
