// SPDX-License-Identifier: Apache-2.0
/*
 * runc.c - a runc container's init pid from runc's state file, without
 * running runc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"
#include "json.h"
#include "netconf.h"
#include "runc.h"
#include "store.h"

const char *cir_runc_root(void)
{
	const char *env = getenv(CIR_RUNC_ROOT_ENV);

	return env && env[0] ? env : CIR_RUNC_ROOT_DEFAULT;
}

int cir_runc_state_parse(const char *text, size_t len, struct cir_runc_state *out,
			 struct cir_error *err)
{
	_cleanup_json_ struct cir_json *j = NULL;
	const struct cir_jnode *root, *start;
	struct cir_runc_state s = { 0 };
	uint64_t pid = 0;
	int r;

	r = cir_json_parse(text, len, &j, err);
	if (r < 0)
		return r;
	root = cir_json_root(j);
	if (cir_jnode_type(root) != CIR_JOBJECT)
		return cir_err(err, EINVAL, "expected an object");
	r = cir_json_u64(root, "init_process_pid", INT32_MAX, &pid, err);
	if (r < 0)
		return r;
	if (r == 0 || pid == 0)
		return cir_err(err, EINVAL, "no init process pid");
	s.pid = (long long)pid;
	start = cir_jnode_get(root, "init_process_start");
	if (cir_jnode_type(start) == CIR_JSTRING) {
		const char *v = cir_jnode_str(start);
		char *end;

		errno = 0;
		s.start = strtoull(v, &end, 10);
		/* Digits only: strtoull() would also skip leading blanks. */
		if (errno || *v < '0' || *v > '9' || *end)
			return cir_err(err, EINVAL, "init_process_start: expected a number");
	} else if (start) {
		uint64_t v = 0;

		r = cir_json_u64(root, "init_process_start", UINT64_MAX, &v, err);
		if (r < 0)
			return r;
		s.start = v;
	}
	*out = s;
	return 0;
}

int cir_runc_state_read(const char *root, const char *id, struct cir_runc_state *out,
			struct cir_error *err)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *buf = NULL;
	int r;

	if (!root)
		root = cir_runc_root();
	r = cir_cni_check_containerid(id, err);
	if (r < 0)
		return r;
	dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		int c = openat(dfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		close(dfd);
		dfd = c;
	}
	if (dfd < 0 && errno == ENOENT)
		return cir_err(err, ENOENT, "container %s not found (no runc state in %s)", id,
			       root);
	if (dfd < 0)
		return cir_err(err, errno, "container %s: runc state in %s: %s", id, root,
			       strerror(errno));
	buf = malloc(CIR_JSON_MAX + 1);
	if (!buf)
		return cir_err(err, ENOMEM, "out of memory");
	r = cir_store_read(dfd, CIR_RUNC_STATE, buf, CIR_JSON_MAX + 1, err);
	if (r == -ENOENT)
		return cir_err(err, ENOENT, "container %s not found (no runc state in %s)", id,
			       root);
	if (r < 0)
		return cir_err_wrap(err, "container %s: runc state %s/%s", id, root, id);
	r = cir_runc_state_parse(buf, (size_t)r, out, err);
	if (r < 0)
		return cir_err_wrap(err, "container %s: runc state %s/%s/%s", id, root, id,
				    CIR_RUNC_STATE);
	return 0;
}

int cir_runc_pid(const char *root, const char *id, long long *pid, struct cir_error *err)
{
	struct cir_runc_state s;
	struct cir_member m;
	int r;

	r = cir_runc_state_read(root, id, &s, err);
	if (r < 0)
		return r;
	r = cir_member_set_process(&m, s.pid, err);
	if (r == -ESRCH || (r == 0 && s.start && m.starttime != s.start))
		return cir_err(err, ESRCH, "container %s is not running (process %lld not found)",
			       id, s.pid);
	if (r < 0)
		return cir_err_wrap(err, "container %s", id);
	*pid = s.pid;
	return 0;
}

bool cir_runc_is_member(const struct cir_runc_state *s, const struct cir_member *m)
{
	return m->pid == s->pid && (!s->start || !m->starttime || m->starttime == s->start);
}

bool cir_arg_is_pid(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}
