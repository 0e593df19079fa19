// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "unit_name.h"

#define CONTAINER_ID_SHORT 12

static const char *const systemd_suffixes[] = {
	".service", ".scope", ".slice", ".socket", ".mount", ".swap", ".timer", ".target",
	".path", ".automount", ".device",
};

/* Transient scopes container runtimes create, and the name operators use for them. */
static const struct {
	const char *prefix;
	const char *runtime;
} container_scopes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "crio" },
	{ "libpod-", "podman" },
};

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t sl = strlen(suffix);

	return len > sl && memcmp(s + len - sl, suffix, sl) == 0;
}

int unit_name_is_systemd_unit(const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(systemd_suffixes) / sizeof(systemd_suffixes[0]); i++)
		if (ends_with(name, len, systemd_suffixes[i]))
			return 1;
	return 0;
}

static int is_hex_id(const char *s, size_t len)
{
	if (len < CONTAINER_ID_SHORT)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static size_t copy(char *dst, size_t size, const char *src, size_t len)
{
	if (size == 0)
		return 0;
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return len;
}

static size_t container_name(char *dst, size_t size, const char *runtime, const char *id)
{
	int n;

	if (size == 0)
		return 0;
	n = snprintf(dst, size, "%s:%.*s", runtime, CONTAINER_ID_SHORT, id);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* Names a single path component if it is a unit or a container scope; 0 if not. */
static size_t name_component(char *dst, size_t size, const char *leaf, size_t len)
{
	char tmp[512];

	for (size_t i = 0; i < sizeof(container_scopes) / sizeof(container_scopes[0]); i++) {
		size_t pl = strlen(container_scopes[i].prefix);
		const char *id = leaf + pl;

		if (len > pl + 6 && strncmp(leaf, container_scopes[i].prefix, pl) == 0 &&
		    ends_with(leaf, len, ".scope") && is_hex_id(id, len - pl - 6))
			return container_name(dst, size, container_scopes[i].runtime, id);
	}
	copy(tmp, sizeof(tmp), leaf, len);
	if (unit_name_is_systemd_unit(tmp))
		return copy(dst, size, leaf, len);
	return 0;
}

/* A unit a process runs in: a service or a scope (a container's scope included). */
static int is_process_unit(const char *c, size_t len)
{
	return ends_with(c, len, ".service") || ends_with(c, len, ".scope");
}

/* Copies a systemd-escaped name ("debian\x2dguest") unescaped. */
static void unescape(char *dst, size_t size, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++) {
		unsigned int v;

		if (src[i] == '\\' && i + 3 < len && src[i + 1] == 'x' &&
		    sscanf(src + i + 2, "%2x", &v) == 1 && v != 0) {
			dst[o++] = (char)v;
			i += 3;
		} else {
			dst[o++] = src[i];
		}
	}
	if (size)
		dst[o] = '\0';
}

struct component {
	const char *s;
	size_t len;
};

#define MAX_COMPONENTS 64
#define DELETED_SUFFIX " (deleted)"

/*
 * Where a machine's own tree begins: systemd-nspawn's
 * machine-NAME.scope/payload, LXC's lxc.payload.NAME, a container scope with
 * cgroups below it (a container running its own systemd). Returns the index of
 * the first component inside the machine, 0 when there is none.
 */
static size_t machine_boundary(const struct component *c, size_t n, char *machine, size_t msize)
{
	size_t inside = 0;

	for (size_t i = 0; i < n; i++) {
		static const char lxc[] = "lxc.payload.";
		static const char nspawn[] = "machine-";

		if (i + 1 < n && c[i].len > sizeof(nspawn) - 1 + 6 &&
		    strncmp(c[i].s, nspawn, sizeof(nspawn) - 1) == 0 && ends_with(c[i].s, c[i].len, ".scope") &&
		    c[i + 1].len == 7 && strncmp(c[i + 1].s, "payload", 7) == 0) {
			unescape(machine, msize, c[i].s + sizeof(nspawn) - 1,
				 c[i].len - (sizeof(nspawn) - 1) - 6);
			inside = i + 2;
			i++;
		} else if (c[i].len > sizeof(lxc) - 1 && strncmp(c[i].s, lxc, sizeof(lxc) - 1) == 0) {
			unescape(machine, msize, c[i].s + sizeof(lxc) - 1, c[i].len - (sizeof(lxc) - 1));
			inside = i + 1;
		} else if (i + 1 < n && is_process_unit(c[i].s, c[i].len)) {
			char name[UNIT_NAME_MACHINE_MAX + 64];
			size_t nl = name_component(name, sizeof(name), c[i].s, c[i].len);

			/* docker:<id> with units of its own below it */
			if (nl && strchr(name, ':') && strncmp(name, c[i].s, nl) != 0) {
				copy(machine, msize, name, strlen(name));
				inside = i + 1;
			}
		}
	}
	return inside;
}

size_t unit_name_split_path(char *dst, size_t size, char *machine, size_t msize, const char *path)
{
	struct component c[MAX_COMPONENTS];
	size_t len = strlen(path), n = 0, inside, unit = SIZE_MAX, out;
	char m[UNIT_NAME_MACHINE_MAX] = "";
	const char *p;

	/* A cgroup read back while it is being removed: never part of a name. */
	if (len >= sizeof(DELETED_SUFFIX) - 1 &&
	    strcmp(path + len - (sizeof(DELETED_SUFFIX) - 1), DELETED_SUFFIX) == 0)
		len -= sizeof(DELETED_SUFFIX) - 1;
	while (len > 1 && path[len - 1] == '/')
		len--;
	for (p = path; p < path + len && n < MAX_COMPONENTS;) {
		const char *e;

		while (p < path + len && *p == '/')
			p++;
		if (p >= path + len)
			break;
		e = memchr(p, '/', (size_t)(path + len - p));
		if (!e)
			e = path + len;
		c[n].s = p;
		c[n].len = (size_t)(e - p);
		n++;
		p = e;
	}
	inside = machine_boundary(c, n, m, sizeof(m));
	/* The deepest service or scope: a unit's own sub-cgroups belong to it. */
	for (size_t i = inside; i < n; i++)
		if (is_process_unit(c[i].s, c[i].len))
			unit = i;
	if (unit == SIZE_MAX && n > inside)
		unit = n - 1; /* a slice, a mount, or a plain directory: the leaf decides below */
	if (machine && msize)
		snprintf(machine, msize, "%s", m);
	out = 0;
	if (m[0]) {
		int k = snprintf(dst, size, "%s:", m);

		out = k < 0 ? 0 : (size_t)k < size ? (size_t)k : (size ? size - 1 : 0);
	}
	if (unit == SIZE_MAX) /* the root, or a machine's root */
		return out + copy(dst + out, size - out, "/", 1);
	{
		size_t nl = name_component(dst + out, size - out, c[unit].s, c[unit].len);

		if (nl)
			return out + nl;
	}
	/* cgroupfs-driver containers: /docker/<id>, kubepods/.../<id> */
	if (unit > 0 && c[unit - 1].len >= 6 && strncmp(c[unit].s - 7, "docker", 6) == 0 &&
	    is_hex_id(c[unit].s, c[unit].len))
		return out + container_name(dst + out, size - out, "docker", c[unit].s);
	if (m[0]) {
		/* Inside a machine: its path below the machine's root. */
		size_t o = out;

		for (size_t i = inside; i < n && o + 1 < size; i++) {
			dst[o++] = '/';
			o += copy(dst + o, size - o, c[i].s, c[i].len);
		}
		return o;
	}
	return copy(dst, size, path, len);
}

size_t unit_name_from_path(char *dst, size_t size, const char *path)
{
	return unit_name_split_path(dst, size, NULL, 0, path);
}

const char *unit_name_machine(const char *key, char *machine, size_t msize)
{
	const char *sep = NULL;

	if (msize)
		machine[0] = '\0';
	if (key[0] == '/')
		return key;
	/* The last ':' after which a unit name (or a machine's "/") follows. */
	for (const char *p = strchr(key, ':'); p; p = strchr(p + 1, ':'))
		if (strcmp(p + 1, "/") == 0 || p[1] == '/' || unit_name_is_systemd_unit(p + 1))
			sep = p;
	if (!sep || sep == key || memchr(key, '/', (size_t)(sep - key)))
		return key;
	if (msize)
		copy(machine, msize, key, (size_t)(sep - key));
	return sep + 1;
}

size_t unit_name_from_leaf(char *dst, size_t size, const char *leaf)
{
	size_t len = strlen(leaf), n;

	if (len == 0)
		return copy(dst, size, "/", 1);
	n = name_component(dst, size, leaf, len);
	if (n)
		return n;
	n = (size_t)snprintf(dst, size, ".../%s", leaf);
	return n < size ? n : (size ? size - 1 : 0);
}
