/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Facts about the running system that commands check before they start. */
#ifndef RCATRACE_SYSTEM_H
#define RCATRACE_SYSTEM_H

#include <stddef.h>

/*
 * The oldest kernel rcatrace runs on: the newest of the features it needs.
 *   5.5  tp_btf programs, commit 9e15db66136a ("bpf: Implement accurate raw_tp
 *        context access via BTF")
 *   5.8  BPF ring buffer, commit 457f44363a88 ("bpf: Implement BPF ring buffer
 *        and verifier support for it"); also bpf_ktime_get_boot_ns() and the
 *        task iterator
 *   5.11 bpf_get_current_task_btf(), commit 3ca1032ab7ab ("bpf: Implement
 *        get_current_task_btf and RET_PTR_TO_BTF_ID")
 *   5.12 atomic exchange (__sync_lock_test_and_set), commit 5ffa25502b5a
 *        ("bpf: Add instructions for atomic_[cmp]xchg")
 *   5.14 BPF_MAP_LOOKUP_AND_DELETE_ELEM on a hash map (the ledger's
 *        retirement), commit 3e87f192b405 ("bpf: Add lookup_and_delete_elem
 *        support to hashtab")
 * A distribution kernel with these backported is older by number: a check
 * against this should warn, and let the load decide.
 */
#define RCATRACE_MIN_KERNEL_MAJOR 5
#define RCATRACE_MIN_KERNEL_MINOR 14

/* The kernel's boot id (36 chars). 0 or -errno. */
int system_boot_id(char *dst, size_t size);
/* 1 if this process may load and attach tracing programs (root, or CAP_BPF+CAP_PERFMON). */
int system_can_trace(void);
/* 1 if the kernel exposes its BTF (needed for CO-RE and tp_btf). */
int system_has_btf(void);

/*
 * The major and minor numbers of a kernel release string as uname(2) gives
 * it ("6.1.0-13-amd64", "5.14.0-362.el9.x86_64", "6.8"). 0, or -EINVAL when
 * it does not start with "MAJOR.MINOR" (ret_* untouched). Pure: unit-tested.
 */
int system_parse_kernel_release(const char *release, int *ret_major, int *ret_minor);
/* 1 if release is major.minor or newer, 0 if older, -EINVAL if it is not understood. Pure. */
int system_release_at_least(const char *release, int major, int minor);
/* The running kernel's major and minor numbers, from uname(2). 0 or -errno. */
int system_kernel_version(int *ret_major, int *ret_minor);
/*
 * 1 if the running kernel is major.minor or newer, 0 if older, -errno when
 * its release cannot be read or understood.
 */
int system_kernel_at_least(int major, int minor);

#endif
