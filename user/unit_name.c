// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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

size_t unit_name_from_path(char *dst, size_t size, const char *path)
{
	size_t len = strlen(path), n;
	const char *leaf, *parent_end;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0 || (len == 1 && path[0] == '/'))
		return copy(dst, size, "/", 1);
	leaf = path + len;
	while (leaf > path && leaf[-1] != '/')
		leaf--;
	n = name_component(dst, size, leaf, (size_t)(path + len - leaf));
	if (n)
		return n;
	/* cgroupfs-driver containers: /docker/<id>, /lxc.payload/..., kubepods/.../<id> */
	parent_end = leaf > path ? leaf - 1 : path;
	if (is_hex_id(leaf, (size_t)(path + len - leaf)) && parent_end - path >= 6 &&
	    strncmp(parent_end - 6, "docker", 6) == 0)
		return container_name(dst, size, "docker", leaf);
	return copy(dst, size, path, len);
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
